package core_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gopmdk/pmdk/core"
)

// Map part of a file the libpmem2 way: a source, a config, a map.
func ExampleNewMap() {
	dir, _ := os.MkdirTemp("", "core-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "pool")
	_ = os.WriteFile(path, make([]byte, 1<<20), 0o600)

	f, _ := os.OpenFile(path, os.O_RDWR, 0)
	defer f.Close()
	src, _ := core.FromFile(f)

	// A page-cache file cannot promise cache-line granularity.
	_, err := core.NewMap(src, &core.Config{RequiredGranularity: core.GranularityCacheLine})
	fmt.Println(errors.Is(err, core.ErrGranularityNotSupported))

	m, err := core.NewMap(src, &core.Config{Offset: 64 << 10, Length: 64 << 10, RequiredGranularity: core.GranularityPage})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	m.Memcpy(m.Bytes(), []byte("hello"), 0) // copied and persisted (msync here)
	_ = m.DeepFlush(m.Bytes()[:5])

	b, _ := os.ReadFile(path)
	fmt.Println(m.Size(), m.Granularity(), string(b[64<<10:64<<10+5]))
	// Output:
	// true
	// 65536 page hello
}

// Map a whole file the libpmem way and use the package-level persist calls.
func ExampleMapFile() {
	dir, _ := os.MkdirTemp("", "core-example")
	defer os.RemoveAll(dir)

	m, err := core.MapFile(filepath.Join(dir, "pool"), 4<<20, core.FileCreate|core.FileExcl, 0o600)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	core.MemcpyPersist(m.Bytes()[4096:], []byte("persistent"))
	core.MemsetPersist(m.Bytes()[8192:8200], 0)
	fmt.Println(m.Size(), string(m.Bytes()[4096:4106]))
	// Output: 4194304 persistent
}
