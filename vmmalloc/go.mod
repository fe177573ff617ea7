module github.com/gopmdk/pmdk/vmmalloc

go 1.26.0

require github.com/gopmdk/pmdk/vmem v0.1.0
