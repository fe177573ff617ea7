// Command vmmalloc-build compiles vmmalloc's preload library with gcc (or
// $CC) and writes it where -o says:
//
//	go run github.com/gopmdk/pmdk/vmmalloc/cmd/vmmalloc-build -o /tmp/libvmmalloc.so
//	LD_PRELOAD=/tmp/libvmmalloc.so VMMALLOC_POOL_DIR=/dev/shm VMMALLOC_POOL_SIZE=1G ls -lR /usr
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/gopmdk/pmdk/vmmalloc"
)

func main() {
	out := flag.String("o", vmmalloc.LibName, "where to write the library")
	flag.Parse()
	if err := build(*out); err != nil {
		fmt.Fprintln(os.Stderr, "vmmalloc-build:", err)
		os.Exit(1)
	}
}

func build(out string) error {
	dir, err := os.MkdirTemp("", "vmmalloc-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	lib, err := vmmalloc.Build(dir)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(lib)
	if err != nil {
		return err
	}
	return os.WriteFile(out, b, 0o755)
}
