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
	p, err := blk.Create(path, 32<<20, 0o600, &blk.Options{BlockSize: 512})
	if err != nil {
		panic(err)
	}
	fmt.Println("blocks:", p.NBlock(), "of", p.BSize(), "bytes")

	block := bytes.Repeat([]byte("gopmdk! "), 64)
	if err := p.WriteBlock(block, 42); err != nil { // atomic: all or nothing
		panic(err)
	}
	if err := p.SetError(7); err != nil {
		panic(err)
	}
	p.Close()

	p, err = blk.Open(path, nil) // nil: C's defaults, the pool's block size
	if err != nil {
		panic(err)
	}
	defer p.Close()
	buf := make([]byte, p.BSize())
	p.ReadBlock(buf, 42)
	fmt.Printf("block 42: %q...\n", buf[:8])
	p.ReadBlock(buf, 43)
	fmt.Println("block 43 is zero:", bytes.Count(buf, []byte{0}) == len(buf))
	fmt.Println("block 7:", p.ReadBlock(buf, 7))
	// Output:
	// blocks: 64700 of 512 bytes
	// block 42: "gopmdk! "...
	// block 43 is zero: true
	// block 7: blk: block is in the error state: block 7
}

// A pool is an io.WriterAt of whole blocks and an io.ReaderAt of any byte
// range; opened read-only, it reads and refuses writes.
func ExamplePool_ReadAt() {
	dir, err := os.MkdirTemp("", "blk-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "pool.blk")

	p, err := blk.Create(path, blk.MinPoolSize, 0o600, nil) // DefaultBlockSize
	if err != nil {
		panic(err)
	}
	two := append(bytes.Repeat([]byte{'a'}, 512), bytes.Repeat([]byte{'b'}, 512)...)
	if _, err := p.WriteAt(two, 10*512); err != nil { // blocks 10 and 11
		panic(err)
	}
	p.Close()

	o := &blk.Options{}
	o.ReadOnly = true // a pool.Options field, promoted
	p, err = blk.Open(path, o)
	if err != nil {
		panic(err)
	}
	defer p.Close()
	buf := make([]byte, 4)
	p.ReadAt(buf, 11*512-2) // across the two blocks
	fmt.Printf("%q\n", buf)
	fmt.Println(p.WriteBlock(two[:512], 0))
	// Output:
	// "aabb"
	// pool is read-only
}
