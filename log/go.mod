module github.com/gopmdk/pmdk/log

go 1.26.0

require (
	github.com/gopmdk/pmdk/core v0.0.0
	github.com/gopmdk/pmdk/hal v0.0.0
)

replace github.com/gopmdk/pmdk/core => ../core

replace github.com/gopmdk/pmdk/hal => ../hal
