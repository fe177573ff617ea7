package containers_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gopmdk/pmdk/obj"
	"github.com/gopmdk/pmdk/obj/containers"
)

// exampleDB is the root object of the examples: the containers' OIDs.
type exampleDB struct {
	Index obj.OID
	Cache obj.OID
	Log   obj.OID
}

// examplePool creates a pool in a temporary directory; cleanup removes it.
func examplePool() (p *obj.Pool, db *exampleDB, cleanup func()) {
	dir, err := os.MkdirTemp("", "containers-example")
	if err != nil {
		panic(err)
	}
	p, err = obj.Create(filepath.Join(dir, "pool"), 16<<20, 0o600, nil)
	if err != nil {
		panic(err)
	}
	root, err := obj.RootPtr[exampleDB](p)
	if err != nil {
		panic(err)
	}
	if db, err = root.Get(p); err != nil {
		panic(err)
	}
	return p, db, func() { p.Close(); os.RemoveAll(dir) }
}

// A RadixTree keeps byte-string keys in order: point lookups, ranges and
// prefixes. It is created in a transaction that stores its OID.
func ExampleRadixTree() {
	p, db, cleanup := examplePool()
	defer cleanup()
	var index *containers.RadixTree[uint64]
	err := p.Tx(func(tx *obj.Tx) error {
		var err error
		if index, err = containers.NewRadixTree[uint64](tx, p); err != nil {
			return err
		}
		return obj.TxSet(tx, &db.Index, index.OID())
	})
	if err != nil {
		panic(err)
	}
	for i, k := range []string{"user/bob", "user/alice", "group/admin", "user/carol"} {
		if err := index.Put(nil, []byte(k), uint64(i)); err != nil {
			panic(err)
		}
	}
	// Several changes commit together in the caller's transaction.
	err = p.Tx(func(tx *obj.Tx) error {
		if _, err := index.Delete(tx, []byte("user/carol")); err != nil {
			return err
		}
		return index.Put(tx, []byte("user/dave"), 42)
	})
	if err != nil {
		panic(err)
	}

	// After a restart: OpenRadixTree(p, db.Index).
	index, err = containers.OpenRadixTree[uint64](p, db.Index)
	if err != nil {
		panic(err)
	}
	v, err := index.Get([]byte("user/dave"))
	fmt.Println(v, err)
	for k, v := range index.Prefix([]byte("user/")) {
		fmt.Printf("%s=%d\n", k, v)
	}
	// Output:
	// 42 <nil>
	// user/alice=1
	// user/bob=0
	// user/dave=42
}

// A BytesHashMap stores byte-string keys and values of any length; many
// goroutines may use it at once, each call a transaction of its own.
func ExampleBytesHashMap() {
	p, db, cleanup := examplePool()
	defer cleanup()
	var cache *containers.BytesHashMap
	err := p.Tx(func(tx *obj.Tx) error {
		var err error
		if cache, err = containers.NewBytesHashMap(tx, p); err != nil {
			return err
		}
		return obj.TxSet(tx, &db.Cache, cache.OID())
	})
	if err != nil {
		panic(err)
	}
	if err := cache.Put([]byte("greeting"), []byte("hello, persistent world")); err != nil {
		panic(err)
	}
	// View reads the value in place, without a copy.
	err = cache.View([]byte("greeting"), func(v []byte) { fmt.Printf("%s (%d bytes)\n", v, len(v)) })
	fmt.Println(err)
	_, err = cache.Get(nil, []byte("missing"))
	fmt.Println(err)
	// Output:
	// hello, persistent world (23 bytes)
	// <nil>
	// containers: key not found
}

// An MPSCQueue takes records from many producers; each Produce is durable
// when it returns, and one consumer takes them in order.
func ExampleMPSCQueue() {
	p, db, cleanup := examplePool()
	defer cleanup()
	var q *containers.MPSCQueue
	err := p.Tx(func(tx *obj.Tx) error {
		var err error
		if q, err = containers.NewMPSCQueue(tx, p, 4096); err != nil {
			return err
		}
		return obj.TxSet(tx, &db.Log, q.OID())
	})
	if err != nil {
		panic(err)
	}
	for _, rec := range []string{"first", "second", "third"} {
		if err := q.Produce([]byte(rec)); err != nil {
			panic(err)
		}
	}
	n, err := q.Consume(func(rec []byte) error {
		fmt.Println(string(rec))
		return nil
	})
	fmt.Println(n, err, q.Len())
	// Output:
	// first
	// second
	// third
	// 3 <nil> 0
}
