// Command consumer-log is a module outside the repository that depends on
// github.com/gopmdk/pmdk/log alone, as a user's would: scripts/check-modules
// builds and tests it against a module proxy made from the working tree
// (GOWORK=off), so it gets log, core and hal as published and nothing else.
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	pmemlog "github.com/gopmdk/pmdk/log"
)

// run creates a log pool in dir, appends records, reopens the pool and
// walks it, checking that the records come back in order.
func run(dir string) error {
	name := filepath.Join(dir, "consumer.log")
	l, err := pmemlog.Create(name, pmemlog.MinPoolSize, 0o600, nil)
	if err != nil {
		return err
	}
	var want bytes.Buffer
	for i := range 100 {
		rec := fmt.Appendf(nil, "record %d\n", i)
		want.Write(rec)
		if err := l.Append(rec); err != nil {
			l.Close()
			return err
		}
	}
	if err := l.Close(); err != nil {
		return err
	}
	if l, err = pmemlog.Open(name, nil); err != nil {
		return err
	}
	defer l.Close()
	var got bytes.Buffer
	if err := l.Walk(7, func(b []byte) bool { got.Write(b); return true }); err != nil {
		return err
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		return fmt.Errorf("walked %d bytes, appended %d: not the same", got.Len(), want.Len())
	}
	return nil
}

func main() {
	dir, err := os.MkdirTemp("", "consumer-log-")
	if err == nil {
		err = run(dir)
		os.RemoveAll(dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "consumer-log:", err)
		os.Exit(1)
	}
	fmt.Println("consumer-log: appended and walked a log pool")
}
