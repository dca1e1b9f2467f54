module github.com/aegis-safety/aegis

go 1.26
