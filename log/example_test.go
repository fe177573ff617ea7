package log_test

import (
	"fmt"
	"os"
	"path/filepath"

	pmemlog "github.com/gopmdk/pmdk/log"
)

func Example() {
	dir, err := os.MkdirTemp("", "pmemlog-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	l, err := pmemlog.Create(filepath.Join(dir, "my.log"), pmemlog.MinPoolSize, 0o600, nil)
	if err != nil {
		panic(err)
	}
	defer l.Close()
	if err := l.Append([]byte("first record,")); err != nil {
		panic(err)
	}
	if err := l.Appendv([]byte("second "), []byte("record")); err != nil {
		panic(err)
	}
	fmt.Println("bytes used:", l.Tell())
	for chunk, err := range l.Chunks(8) {
		if err != nil {
			panic(err)
		}
		fmt.Printf("%q\n", chunk)
	}
	// Output:
	// bytes used: 26
	// "first re"
	// "cord,sec"
	// "ond reco"
	// "rd"
}
