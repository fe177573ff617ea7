package pool_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gopmdk/pmdk/core/pool"
)

// A library creates its pool, writes its descriptor after the header, and
// reopens it later; a second open while the first holds it fails.
func Example() {
	dir, err := os.MkdirTemp("", "pool-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "log")

	p, err := pool.Create(path, 8<<20, 0o600, pool.Log, nil)
	if err != nil {
		panic(err)
	}
	h := p.Header()
	fmt.Println(h.SignatureString(), h.Major, "open dirty:", h.SDS.Dirty)
	copy(p.Data(), "library descriptor")
	p.Map().Persist(p.Data()[:18])
	p.Close()

	p, err = pool.Open(path, pool.Log, nil)
	if err != nil {
		panic(err)
	}
	defer p.Close()
	_, err = pool.Open(path, pool.Log, nil)
	fmt.Println("second open:", err != nil)
	fmt.Println(string(p.Data()[:18]), p.Size())
	// Output:
	// PMEMLOG 1 open dirty: 1
	// second open: true
	// library descriptor 8388608
}
