// Command pmempool manages log and blk persistent memory pools, with the
// commands, flags, messages and exit codes of PMDK 1.12.1's pmempool(1):
// create, info, check, dump, rm, feature and convert. It is built on
// github.com/gopmdk/pmdk/tools/pmempool. See README.md.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"

	"golang.org/x/sys/unix"
)

const version = "1.12.1 (gopmdk)"

// env is what a command may touch: its streams and whether stdout and
// stdin are terminals (progress bar, echo of answers).
type env struct {
	in       *bufio.Reader
	out, err io.Writer
	outTTY   bool
	inTTY    bool
}

type command struct {
	name, help string
	run        func(e *env, args []string) int
}

func commands() map[string]command {
	cs := []command{
		{"create", "Create a pmem pool", runCreate},
		{"info", "Print information and statistics about a pool", runInfo},
		{"check", "Check consistency of a pool", runCheck},
		{"dump", "Dump user data from a pool", runDump},
		{"rm", "Remove pool file or all files from poolset", runRm},
		{"feature", "Toggle or query pool features", runFeature},
		{"convert", "Perform pool layout conversion", runConvert},
		{"sync", "Synchronize data between replicas (not supported)", runUnsupported("sync")},
		{"transform", "Modify internal structure of a poolset (not supported)", runUnsupported("transform")},
	}
	m := map[string]command{}
	for _, c := range cs {
		m[c.name] = c
	}
	return m
}

func isTerminal(fd uintptr) bool {
	_, err := unix.IoctlGetTermios(int(fd), unix.TCGETS)
	return err == nil
}

func main() {
	e := &env{in: bufio.NewReader(os.Stdin), out: os.Stdout, err: os.Stderr,
		outTTY: isTerminal(os.Stdout.Fd()), inTTY: isTerminal(os.Stdin.Fd())}
	os.Exit(run(e, os.Args[1:]))
}

// run executes pmempool with args and returns the exit status.
func run(e *env, args []string) int {
	if len(args) == 0 {
		usage(e.err)
		return 1
	}
	switch args[0] {
	case "-h", "--help":
		usage(e.out)
		return 0
	case "-V", "--version":
		fmt.Fprintf(e.out, "pmempool %s\n", version)
		return 0
	case "help":
		if len(args) > 1 {
			if c, ok := commands()[args[1]]; ok {
				return c.run(e, []string{"--help"})
			}
		}
		usage(e.out)
		return 0
	}
	c, ok := commands()[args[0]]
	if !ok {
		fmt.Fprintf(e.err, "pmempool: '%s' -- unknown command\n", args[0])
		usage(e.err)
		return 1
	}
	return c.run(e, args[1:])
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: pmempool [--version] [--help] <command> [<args>]\n\nAvailable commands:\n")
	m := commands()
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s - %s\n", n, m[n].help)
	}
	fmt.Fprintf(w, "  help       - Print help text about a command\n")
}

func runUnsupported(name string) func(*env, []string) int {
	return func(e *env, _ []string) int {
		fmt.Fprintf(e.err, "pmempool %s: poolsets are not supported by gopmdk's pmempool\n", name)
		return 1
	}
}
