module github.com/gopmdk/pmdk/tools

go 1.26.0

require (
	github.com/gopmdk/pmdk/core v0.1.0
	github.com/gopmdk/pmdk/hal v0.1.0
	github.com/gopmdk/pmdk/log v0.1.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dustin/go-humanize v1.0.1 // indirect
	github.com/klauspost/cpuid/v2 v2.4.2 // indirect
)

require (
	github.com/allegro/bigcache/v3 v3.1.0
	github.com/dgraph-io/ristretto/v2 v2.4.2
	github.com/gopmdk/pmdk/blk v0.1.0
	github.com/gopmdk/pmdk/obj v0.1.0
	github.com/gopmdk/pmdk/vmem v0.1.0
	github.com/spf13/pflag v1.1.0
	golang.org/x/sys v0.50.0
)
