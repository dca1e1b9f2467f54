module github.com/aegis-safety/aegis

go 1.26.0

require (
	github.com/ardanlabs/jinja v1.8.0
	golang.org/x/sys v0.49.0
	golang.org/x/text v0.43.0
)

require github.com/tetratelabs/wazero v1.12.0

require gonum.org/v1/gonum v0.17.0
