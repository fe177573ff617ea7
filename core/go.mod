module github.com/gopmdk/pmdk/core

go 1.26.0
