package vmem_test

import (
	"fmt"
	"os"

	"github.com/gopmdk/pmdk/vmem"
)

func Example() {
	dir, err := os.MkdirTemp("", "vmem-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	// A pool of the smallest size, on a nameless file in dir.
	p, err := vmem.Create(dir, vmem.MinPoolSize, nil)
	if err != nil {
		panic(err)
	}
	defer p.Close()
	b, err := p.Malloc(100)
	if err != nil {
		panic(err)
	}
	n := copy(b, "hello, world")
	fmt.Println(string(b[:n]), len(b), cap(b))
	if err := p.Free(b); err != nil {
		panic(err)
	}

	type point struct{ X, Y float64 }
	pt, err := vmem.New[point](p)
	if err != nil {
		panic(err)
	}
	pt.X = 1.5
	fmt.Println(*pt)
	vmem.FreeValue(p, pt)

	_, err = vmem.New[struct{ Name string }](p)
	fmt.Println(err)
	// Output:
	// hello, world 100 112
	// {1.5 0}
	// vmem: type holds Go pointers: .Name string (in struct { Name string })
}
