// Command daxio copies data to, from or between Device DAX devices, or
// zeroes one, through memory mappings, with the flags, messages and exit
// codes of PMDK 1.12.1's daxio(1). See README.md for what differs.
//
// A Device DAX is recognised through sysfs as libpmem2 does it (a
// character device of the "dax" subsystem, sized and aligned by its nd
// dax device), by github.com/gopmdk/pmdk/core; stores to it go through
// core's persist path.
//
// For tests only, GOPMDK_DAXIO_ASSUME_DAX lists paths (separated as PATH
// is) of regular files that daxio treats as Device DAX devices: mapped
// whole, sized by the file, aligned to the page size. Everything else runs
// as on a device.
package main

import (
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
)

const version = "1.12.1 (gopmdk)"

// assumeDAXEnv names the test hook's environment variable.
const assumeDAXEnv = "GOPMDK_DAXIO_ASSUME_DAX"

// env is what a run of daxio may touch.
type env struct {
	prog   string // argv[0], in getopt's messages
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// sysfs is the tree Device DAX detection reads, rooted at /sys; nil
	// means the machine's.
	sysfs fs.FS
	// assumeDAX holds paths, as given on the command line, of regular
	// files to treat as Device DAX (the test hook).
	assumeDAX map[string]bool
}

func main() {
	e := &env{prog: os.Args[0], stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	e.assumeDAX = assumeDAXFrom(os.Getenv(assumeDAXEnv))
	os.Exit(run(e, os.Args[1:]))
}

// assumeDAXFrom reads the test hook's list of paths; nil when empty.
func assumeDAXFrom(v string) map[string]bool {
	if v == "" {
		return nil
	}
	m := map[string]bool{}
	for _, p := range filepath.SplitList(v) {
		m[p] = true
	}
	return m
}

// noLen is the length meaning "not given": C's SIZE_MAX.
const noLen = math.MaxUint64

// config is what the command line asks for.
type config struct {
	input, output  string // "" for stdin / stdout
	skip, seek     uint64
	length         uint64
	zero           bool
	clearBadBlocks bool
}

// The options of daxio, in its help's order, with that help's words.
var options = []struct {
	option
	arg, help string
}{
	{option{"input", 'i', true}, "FILE", "input device/file (default stdin)"},
	{option{"output", 'o', true}, "FILE", "output device/file (default stdout)"},
	{option{"skip", 'k', true}, "BYTES", "skip offset for input (default 0)"},
	{option{"seek", 's', true}, "BYTES", "seek offset for output (default 0)"},
	{option{"len", 'l', true}, "BYTES", "total length to perform the I/O"},
	{option{"clear-bad-blocks", 'b', true}, "<yes|no>", "clear bad blocks (default: yes)"},
	{option{"zero", 'z', false}, "", "zeroing the device"},
	{option{"help", 'h', false}, "", "print this help"},
	{option{"version", 'V', false}, "", "display version of daxio"},
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: daxio [option] ...\nValid options:\n")
	for _, o := range options {
		s := fmt.Sprintf("-%c, --%s", o.short, o.long)
		if o.hasArg {
			s += "=" + o.arg
		}
		fmt.Fprintf(w, "   %-31s - %s\n", s, o.help)
	}
}

// errorf prints a message of daxio as C's does: "daxio: " and the text.
func (e *env) errorf(format string, args ...any) {
	fmt.Fprintf(e.stderr, "daxio: "+format, args...)
}

// run executes daxio with args and returns its exit status.
func run(e *env, args []string) int {
	cfg := config{length: noLen, clearBadBlocks: true}
	table := make([]option, len(options))
	for i, o := range options {
		table[i] = o.option
	}
	code := -1 // set when an option ends the run
	_, msg := getopt(args, table, func(p parsed) bool {
		var ok bool
		switch p.short {
		case 'i':
			cfg.input = p.arg
		case 'o':
			cfg.output = p.arg
		case 'k':
			if cfg.skip, ok = parseSize(p.arg); !ok {
				e.errorf("'%s' -- invalid input offset\n", p.arg)
				code = 1
			}
		case 's':
			if cfg.seek, ok = parseSize(p.arg); !ok {
				e.errorf("'%s' -- invalid output offset\n", p.arg)
				code = 1
			}
		case 'l':
			if cfg.length, ok = parseSize(p.arg); !ok {
				e.errorf("'%s' -- invalid length\n", p.arg)
				code = 1
			}
		case 'b':
			switch p.arg {
			case "yes", "no":
				cfg.clearBadBlocks = p.arg == "yes"
			default:
				e.errorf("'%s' -- invalid argument of the '--clear-bad-blocks' option\n", p.arg)
				code = 1
			}
		case 'z':
			cfg.zero = true
		case 'h':
			usage(e.stderr)
			code = 0
		case 'V':
			fmt.Fprintln(e.stdout, version)
			code = 0
		}
		return code < 0
	})
	switch {
	case msg != "":
		fmt.Fprintf(e.stderr, "%s: %s\n", e.prog, msg)
		usage(e.stderr)
		return 1
	case code >= 0:
		return code
	}
	if !cfg.validate(e) {
		return 1
	}
	if !copyData(e, &cfg) {
		return 1
	}
	return 0
}

// validate checks the options against each other, as C does before
// opening anything.
func (c *config) validate(e *env) bool {
	switch {
	case c.zero && c.output == "":
		e.errorf("zeroing flag specified but no output file provided\n")
	case !c.zero && c.input == "" && c.output == "":
		e.errorf("an input file and/or an output file must be provided\n")
	case c.input == "" && c.skip != 0:
		e.errorf("skip offset specified but no input file provided\n")
	case c.output == "" && c.seek != 0:
		e.errorf("seek offset specified but no output file provided\n")
	default:
		return true
	}
	return false
}
