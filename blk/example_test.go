package blk_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gopmdk/pmdk/blk"
)

func Example() {
	dir, err := os.MkdirTemp("", "blk-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "pool.blk")

	// A 32 MiB pool of 512-byte blocks, as pmemblk_create makes it.
	p, err := blk.Create(path, 512, 32<<20, 0o600)
	if err != nil {
		panic(err)
	}
	fmt.Println("blocks:", p.NBlock(), "of", p.BSize(), "bytes")

	block := bytes.Repeat([]byte("gopmdk! "), 64)
	if err := p.Write(block, 42); err != nil { // atomic: all or nothing
		panic(err)
	}
	if err := p.SetError(7); err != nil {
		panic(err)
	}
	p.Close()

	p, err = blk.Open(path, 0) // 0: the pool's block size
	if err != nil {
		panic(err)
	}
	defer p.Close()
	buf := make([]byte, p.BSize())
	p.Read(buf, 42)
	fmt.Printf("block 42: %q...\n", buf[:8])
	p.Read(buf, 43)
	fmt.Println("block 43 is zero:", bytes.Count(buf, []byte{0}) == len(buf))
	fmt.Println("block 7:", p.Read(buf, 7))
	// Output:
	// blocks: 64700 of 512 bytes
	// block 42: "gopmdk! "...
	// block 43 is zero: true
	// block 7: blk: block is in the error state: block 7
}
