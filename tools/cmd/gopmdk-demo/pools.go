package main

import (
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/gopmdk/pmdk/blk"
	pmemlog "github.com/gopmdk/pmdk/log"

	"github.com/gopmdk/pmdk/tools/pmempool"
)

// logPool appends records to a fresh log pool, closes it, reopens it and
// walks the records back.
func logPool(w io.Writer, dir string) error {
	path := filepath.Join(dir, "demo.log")
	l, err := pmemlog.Create(path, pmemlog.MinPoolSize, 0o600, nil)
	if err != nil {
		return err
	}
	records := [][]byte{[]byte("first record;"), []byte("second record;"), []byte("third, by Appendv;")}
	for _, r := range records[:2] {
		if err := l.Append(r); err != nil {
			l.Close()
			return err
		}
	}
	if err := l.Appendv(records[2][:6], records[2][6:]); err != nil {
		l.Close()
		return err
	}
	fmt.Fprintf(w, "created %s (%d usable bytes), appended %d records, tell %d\n", path, l.NBytes(), len(records), l.Tell())
	if err := l.Close(); err != nil {
		return err
	}
	l, err = pmemlog.Open(path, nil)
	if err != nil {
		return err
	}
	defer l.Close()
	var got []byte
	if err := l.Walk(0, func(b []byte) bool { got = append(got, b...); return true }); err != nil {
		return err
	}
	if want := bytes.Join(records, nil); !bytes.Equal(got, want) {
		return fmt.Errorf("walk after reopen gave %q, want %q", got, want)
	}
	fmt.Fprintf(w, "reopened and walked: %q\n", got)
	fmt.Fprintln(w, "log round trip: ok")
	return nil
}

// blkPool writes a block of a fresh block pool, closes it, reopens it and
// reads the block back.
func blkPool(w io.Writer, dir string) error {
	path := filepath.Join(dir, "demo.blk")
	const bsize = 512
	p, err := blk.Create(path, blk.MinPoolSize, 0o600, &blk.Options{BlockSize: bsize})
	if err != nil {
		return err
	}
	block := make([]byte, bsize)
	copy(block, "block 42 of a gopmdk blk pool, written atomically through the BTT")
	const blockno = 42
	if err := p.WriteBlock(block, blockno); err != nil {
		p.Close()
		return err
	}
	fmt.Fprintf(w, "created %s (%d blocks of %d bytes), wrote block %d\n", path, p.NBlock(), p.BSize(), blockno)
	if err := p.Close(); err != nil {
		return err
	}
	if p, err = blk.Open(path, &blk.Options{BlockSize: bsize}); err != nil {
		return err
	}
	defer p.Close()
	got := make([]byte, bsize)
	if err := p.ReadBlock(got, blockno); err != nil {
		return err
	}
	if !bytes.Equal(got, block) {
		return fmt.Errorf("block %d read back differs", blockno)
	}
	fmt.Fprintf(w, "reopened and read block %d: %q\n", blockno, bytes.TrimRight(got, "\x00"))
	fmt.Fprintln(w, "blk round trip: ok")
	return nil
}

// pmempoolCheck checks the pools the demo made with gopmdk's pmempool
// check (for the obj pool, its heap too: every zone, chunk, run and object
// header) and asks C PMDK's pmempool for its verdict, when it is
// installed.
func pmempoolCheck(w io.Writer, dir string) error {
	names := []string{"demo.log", "demo.blk", "demo.obj"}
	for _, name := range names {
		res, _, err := pmempool.Check(filepath.Join(dir, name), nil)
		if err != nil {
			return fmt.Errorf("gopmdk check %s: %w", name, err)
		}
		if res != pmempool.Consistent {
			return fmt.Errorf("gopmdk check %s: %v", name, res)
		}
		fmt.Fprintf(w, "gopmdk pmempool check %s: %v\n", name, res)
	}
	tool, err := exec.LookPath("pmempool")
	if err != nil {
		fmt.Fprintln(w, "pmempool (C PMDK) not installed: skipped")
		return nil
	}
	for _, name := range names {
		out, err := exec.Command(tool, "check", "-v", filepath.Join(dir, name)).CombinedOutput()
		if err != nil {
			return fmt.Errorf("pmempool check %s: %w\n%s", name, err, out)
		}
		// -v narrates every step; its last line is the verdict.
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		fmt.Fprintf(w, "pmempool check -v %s: %s\n", name, filepath.Base(lines[len(lines)-1]))
	}
	return nil
}
