// Command gopmdk-demo shows what gopmdk sees on this machine and makes a
// store persistent: it prints the CPU features hal detected and the kernel
// set it chose, maps a file in a temporary directory with core.MapFile,
// copies a message into it with a persisting memcpy, unmaps it and reads the
// file back to show the message survived. No persistent memory is needed:
// on a page-cache file the persist path is msync. Then it appends records to
// a log pool, writes a block of a blk pool and allocates objects in an obj
// pool, and reads them back after reopening the pools. Then it cuts an obj
// transaction off at each of its fences on the crash simulator and shows
// that every post-crash image recovers to all or nothing of it.
//
// Usage:
//
//	gopmdk-demo [-dir DIR] [-keep]
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	var opts options
	fs := flag.NewFlagSet("gopmdk-demo", flag.ExitOnError)
	opts.addFlags(fs)
	_ = fs.Parse(os.Args[1:]) // ExitOnError: Parse exits on bad flags
	if err := run(os.Stdout, opts); err != nil {
		fmt.Fprintln(os.Stderr, "gopmdk-demo:", err)
		os.Exit(1)
	}
}

type options struct {
	dir  string // where the demo's pool files go
	keep bool   // leave the pool files behind
}

func (o *options) addFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.dir, "dir", os.TempDir(), "directory for the demo's pool files")
	fs.BoolVar(&o.keep, "keep", false, "keep the pool files instead of removing them")
}

// run is the whole demo, writing its report to w.
func run(w io.Writer, opts options) error {
	work, err := os.MkdirTemp(opts.dir, "gopmdk-demo-")
	if err != nil {
		return err
	}
	if opts.keep {
		defer fmt.Fprintf(w, "\npool files kept in %s\n", work)
	} else {
		defer os.RemoveAll(work)
	}
	printHAL(w)
	for _, step := range steps {
		fmt.Fprintf(w, "\n== %s\n", step.title)
		if err := step.run(w, work); err != nil {
			return fmt.Errorf("%s: %w", step.title, err)
		}
	}
	return nil
}

// steps are the demo's sections after the hal report, in order.
var steps = []struct {
	title string
	run   func(w io.Writer, dir string) error
}{
	{"platform", platform},
	{"persisted copy (core.MapFile + Memcpy)", persistedCopy},
	{"log pool (append, reopen, walk)", logPool},
	{"blk pool (write a block, reopen, read it)", blkPool},
	{"obj pool (allocate objects, reopen, walk them)", objPool},
	{"obj transaction cut off by a simulated power failure at every fence", txCrash},
	{"volatile memory (vmem pool, vmemcache)", volatileMemory},
	{"C PMDK's verdict (pmempool check)", pmempoolCheck},
}
