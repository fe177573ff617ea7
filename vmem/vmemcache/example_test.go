package vmemcache_test

import (
	"fmt"
	"os"

	"github.com/gopmdk/pmdk/vmem/vmemcache"
)

func Example() {
	dir, _ := os.MkdirTemp("", "vmemcache-example")
	defer os.RemoveAll(dir)

	c, err := vmemcache.New(dir, &vmemcache.Options{
		Size: 4 << 20,
		OnEvict: func(_ *vmemcache.Cache, key []byte) {
			fmt.Printf("evicting %s\n", key)
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	c.Put([]byte("greeting"), []byte("hello, vmemcache"))
	fmt.Println(c.Put([]byte("greeting"), []byte("again")))

	buf := make([]byte, 9)
	n, size, _ := c.Get([]byte("greeting"), buf, 7)
	fmt.Println(string(buf[:n]), size)

	c.Evict(nil)
	_, _, err = c.Get([]byte("greeting"), buf, 0)
	fmt.Println(err)
	// Output:
	// vmemcache: entry for the key already exists
	// vmemcache 16
	// evicting greeting
	// vmemcache: no entry for the key
}
