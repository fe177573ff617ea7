module github.com/gopmdk/pmdk/conformance

go 1.26.0

require (
	github.com/gopmdk/pmdk/core v0.1.0
	github.com/gopmdk/pmdk/hal v0.1.0
	golang.org/x/sys v0.50.0
)

require (
	github.com/gopmdk/pmdk/blk v0.1.0
	github.com/gopmdk/pmdk/kv v0.1.0
	github.com/gopmdk/pmdk/log v0.1.0
	github.com/gopmdk/pmdk/obj v0.1.0
	github.com/gopmdk/pmdk/set v0.1.0
	github.com/klauspost/cpuid/v2 v2.4.2 // indirect
)
