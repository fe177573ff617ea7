package pmempool_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gopmdk/pmdk/tools/pmempool"
)

// Check a fresh log pool, damage its write offset, then repair it as
// `pmempool check -ry` would.
func ExampleCheck() {
	dir, _ := os.MkdirTemp("", "pmempool-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "pool.log")
	if err := pmempool.Create(path, pmempool.CreateOptions{Type: pmempool.TypeLog}); err != nil {
		fmt.Println(err)
		return
	}
	res, _, _ := pmempool.Check(path, nil)
	fmt.Println(res)

	f, _ := os.OpenFile(path, os.O_RDWR, 0)
	f.WriteAt([]byte{0xff, 0xff, 0xff, 0xff, 0xff}, 4096+16) // write_offset
	f.Close()
	res, msgs, _ := pmempool.Check(path, nil)
	fmt.Println(res, msgs[0].Msg)

	res, msgs, _ = pmempool.Check(path, &pmempool.CheckOptions{Repair: true, Yes: true, Verbose: true})
	for _, m := range msgs[len(msgs)-2:] {
		fmt.Println(m.Msg)
	}
	fmt.Println(res)
	// Output:
	// consistent
	// not consistent invalid pmemlog.write_offset: 0xffffffffff
	// invalid pmemlog.write_offset: 0xffffffffff
	// setting pmemlog.write_offset to pmemlog.end_offset
	// repaired
}

func ExampleHexdump() {
	pmempool.Hexdump(os.Stdout, []byte("persistent memory, 32 bytes long"), 0x2000)
	// Output:
	// 00002000  70 65 72 73 69 73 74 65  6e 74 20 6d 65 6d 6f 72  |persistent memor|
	// 00002010  79 2c 20 33 32 20 62 79  74 65 73 20 6c 6f 6e 67  |y, 32 bytes long|
}
