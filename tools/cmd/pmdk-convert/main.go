// Command pmdk-convert converts obj pools written by PMDK 1.0 to 1.6
// (layouts v1 to v5) to the layout of PMDK 1.7 to 1.12 (v6), which
// gopmdk's obj and C's libpmemobj 1.12 open, with the options, messages
// and exit codes of C's pmdk-convert. See
// github.com/gopmdk/pmdk/tools/pmempool.RunConvert and README.md.
package main

import (
	"os"

	"github.com/gopmdk/pmdk/tools/pmempool"
)

func main() {
	os.Exit(pmempool.RunConvert(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
