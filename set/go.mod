module github.com/gopmdk/pmdk/set

go 1.26.0

require (
	github.com/gopmdk/pmdk/core v0.1.0
	github.com/gopmdk/pmdk/hal v0.1.0
	golang.org/x/sys v0.50.0
)

require github.com/klauspost/cpuid/v2 v2.4.2 // indirect
