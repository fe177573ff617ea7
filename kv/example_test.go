package kv_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gopmdk/pmdk/kv"
)

// hello is the README's example, as written there.
func hello(path string) ([]byte, error) {
	db, err := kv.Open(kv.STree, &kv.Config{Path: path, Size: 32 << 20, CreateIfMissing: true})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := db.Put([]byte("hello"), []byte("world")); err != nil {
		return nil, err
	}
	return db.Get([]byte("hello")) // "world", durable since Put returned
}

// The README's example: open (creating) an stree pool, put, get.
func Example() {
	dir, err := os.MkdirTemp("", "kv-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	v, err := hello(filepath.Join(dir, "kv.pool"))
	fmt.Printf("%s %v\n", v, err)
	// Output: world <nil>
}

// Sorted engines walk ranges in key order and iterate both ways.
func ExampleDB_GetBetween() {
	dir, err := os.MkdirTemp("", "kv-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	db, err := kv.Open(kv.VSMap, &kv.Config{Path: dir, Size: 16 << 20})
	if err != nil {
		panic(err)
	}
	defer db.Close()
	for _, k := range []string{"d", "a", "c", "b", "e"} {
		db.Put([]byte(k), []byte("value of "+k))
	}
	db.GetBetween([]byte("a"), []byte("e"), func(k, v []byte) bool {
		fmt.Printf("%s: %s\n", k, v)
		return true
	})
	n, _ := db.CountAbove([]byte("c"))
	fmt.Println("above c:", n)
	// Output:
	// b: value of b
	// c: value of c
	// d: value of d
	// above c: 2
}
