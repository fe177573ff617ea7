module github.com/gopmdk/pmdk/hal

go 1.26.0

require (
	github.com/klauspost/cpuid/v2 v2.4.2
	golang.org/x/arch v0.33.0
	golang.org/x/sys v0.50.0
)
