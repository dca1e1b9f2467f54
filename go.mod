module github.com/aegis-safety/aegis

go 1.26.0

require (
	github.com/ardanlabs/jinja v1.8.0
	golang.org/x/sys v0.49.0
	golang.org/x/text v0.43.0
)

require github.com/tetratelabs/wazero v1.12.0

require (
	github.com/PuerkitoBio/goquery v1.10.3
	github.com/a-h/templ v0.3.960
	github.com/gorilla/websocket v1.5.3
	gonum.org/v1/gonum v0.17.0
)

require (
	github.com/andybalholm/cascadia v1.3.3 // indirect
	golang.org/x/net v0.42.0 // indirect
)
