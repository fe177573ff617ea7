module github.com/gopmdk/pmdk/vmem

go 1.26.0
