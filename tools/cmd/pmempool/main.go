// Command pmempool manages log, blk and obj persistent memory pools, with the
// commands, flags, messages and exit codes of PMDK 1.12.1's pmempool(1):
// create, info, check, dump, rm, feature, convert, sync and transform. It is built on
// github.com/gopmdk/pmdk/tools/pmempool. See README.md.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

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
	// usage names the operands, as C's usage line does; about says
	// what the command does, under it in the command's help.
	usage, about string
}

func commands() map[string]command {
	const file = "[<args>] <file>"
	cs := []command{
		{"create", "Create a pmem pool", runCreate, "[<args>] <blk|log|obj> [<bsize>] <file>",
			"Make a pool file of the given type, size and permissions."},
		{"info", "Print information and statistics about a pool", runInfo, file,
			"Show the headers, the layout and, on request, the data and statistics of a pool file."},
		{"check", "Check consistency of a pool", runCheck, file,
			"Check a pool file's metadata and, with -r, repair what can be repaired."},
		{"dump", "Dump user data from a pool", runDump, file,
			"Write the data of a log pool or the blocks of a blk pool, in hex or raw."},
		{"rm", "Remove pool file or all files from poolset", runRm, "[<args>] <files>",
			"Remove pool files that no program has open."},
		{"feature", "Toggle or query pool features", runFeature,
			"[<args>] <file>\nfeature: SINGLEHDR, CKSUM_2K, SHUTDOWN_STATE, CHECK_BAD_BLOCKS",
			"Enable, disable or query one feature flag of a pool's header."},
		{"convert", "Perform pool layout conversion", runConvert, file,
			"Convert an obj pool of PMDK 1.0-1.6 to the current layout (pmdk-convert)."},
		{"sync", "Synchronize data between replicas", runSync, "[<options>] <poolset_file>",
			"Rebuild the missing or damaged parts of a poolset's replicas from a healthy replica."},
		{"transform", "Modify internal structure of a poolset", runTransform, "[<options>] <poolset_file_src> <poolset_file_dst>",
			"Add or remove replicas of a poolset: the source poolset becomes the destination one."},
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

// run executes pmempool with args and returns the exit status, with C's
// messages, streams and codes: usage on stdout, errors on stderr.
func run(e *env, args []string) int {
	if len(args) == 0 {
		usage(e.out)
		return 0
	}
	switch a := args[0]; {
	case a == "-h" || a == "--help":
		usage(e.out)
		return 0
	case a == "-V" || a == "--version":
		fmt.Fprintf(e.out, "pmempool %s\n", version)
		return 0
	case a == "help":
		if len(args) == 1 {
			usage(e.out)
			return 1 // as C: help wants a command
		}
		if args[1] == "help" {
			fmt.Fprintf(e.out, "Usage: pmempool help <command>\n")
			return 0
		}
		if c, ok := commands()[args[1]]; ok {
			return c.run(e, []string{"--help"})
		}
		fmt.Fprintf(e.err, "error: No help text for '%s' command\n", args[1])
		return 1
	case strings.HasPrefix(a, "--"):
		fmt.Fprintf(e.err, "pmempool: unrecognized option '%s'\n", a)
		usage(e.out)
		return 1
	case strings.HasPrefix(a, "-") && len(a) > 1:
		fmt.Fprintf(e.err, "pmempool: invalid option -- '%c'\n", a[1])
		usage(e.out)
		return 1
	}
	c, ok := commands()[args[0]]
	if !ok {
		fmt.Fprintf(e.err, "error: '%s' -- unknown command\n", args[0])
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
