// Command consumer-hal is a module outside the repository that depends on
// github.com/gopmdk/pmdk/hal alone and vendors it: scripts/check-modules
// runs go mod vendor against a module proxy made from the working tree,
// then builds with -mod=vendor and no proxy at all.
package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/gopmdk/pmdk/hal"
)

func main() {
	k := hal.Selected()
	src := bytes.Repeat([]byte("pmem"), 4096)
	dst := make([]byte, len(src))
	k.Memmove(dst, src, 0)
	k.Fence()
	if !bytes.Equal(dst, src) {
		fmt.Fprintln(os.Stderr, "consumer-hal: memmove lost data")
		os.Exit(1)
	}
	fmt.Printf("consumer-hal: %s, kernels %s\n", hal.CPU(), k.Name())
}
