// Development tool of the module set (see main.go): outside go.work and
// never tagged, so golang.org/x/mod enters no published go.mod.
module github.com/gopmdk/pmdk/scripts/modset

go 1.26.0

require golang.org/x/mod v0.43.0
