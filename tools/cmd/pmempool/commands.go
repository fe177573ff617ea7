package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/gopmdk/pmdk/core/pool"
	"github.com/gopmdk/pmdk/tools/pmempool"
)

// flags returns a getopt-like flag set for command name (errors are
// reported by the caller; -h/--help is always there).
func flags(e *env, name, usage string) (*pflag.FlagSet, *bool) {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(e.err)
	fs.SortFlags = false
	fs.Usage = func() {
		fmt.Fprintf(e.err, "Usage: pmempool %s %s\n", name, usage)
	}
	help := fs.BoolP("help", "h", false, "display this help and exit")
	return fs, help
}

// parse parses args; done reports that the command must return code.
func parse(e *env, fs *pflag.FlagSet, help *bool, args []string, nargs func(int) bool) (code int, done bool) {
	if err := fs.Parse(args); err != nil {
		return 1, true
	}
	if *help {
		fs.SetOutput(e.out)
		fmt.Fprintf(e.out, "Usage: pmempool %s\npmempool %s\n\n", fs.Name()+" [<args>] <file>", version)
		fs.PrintDefaults()
		return 0, true
	}
	if !nargs(fs.NArg()) {
		fs.Usage()
		return 1, true
	}
	return 0, false
}

func runCheck(e *env, args []string) int {
	fs, help := flags(e, "check", "[<args>] <file>")
	repair := fs.BoolP("repair", "r", false, "try to repair a pool file if possible")
	yes := fs.BoolP("yes", "y", false, "answer yes to all questions")
	dry := fs.BoolP("dry-run", "d", false, "don't execute, just show what would be done")
	noExec := fs.BoolP("no-exec", "N", false, "deprecated alias for dry-run")
	backup := fs.StringP("backup", "b", "", "create backup of a pool file before executing")
	advanced := fs.BoolP("advanced", "a", false, "perform advanced repairs")
	quiet := fs.BoolP("quiet", "q", false, "be quiet and don't print any messages")
	verbose := fs.BoolP("verbose", "v", false, "increase verbosity level")
	if code, done := parse(e, fs, help, args, func(n int) bool { return n >= 1 }); done {
		return code
	}
	path := fs.Arg(0)
	*dry = *dry || *noExec
	if !*repair && *dry {
		fmt.Fprintf(e.err, "error: '-N' option requires '-r'\n")
		return 1
	}
	if !*repair && *backup != "" {
		fmt.Fprintf(e.err, "error: '-b' option requires '-r'\n")
		return 1
	}
	level := 1
	if *quiet {
		level = 0
	}
	if *verbose {
		level = 2
	}
	o := &pmempool.CheckOptions{Repair: *repair, DryRun: *dry, Advanced: *advanced, Yes: *yes,
		Backup: *backup, Verbose: level >= 2}
	bar := newProgress(e.out, e.outTTY && level > 0)
	o.Progress = bar.update
	o.Status = func(s pmempool.Status) {
		bar.clear()
		switch s.Type {
		case pmempool.StatusError:
			if level >= 1 {
				fmt.Fprintln(e.out, s.Msg)
			}
		case pmempool.StatusInfo:
			fmt.Fprintln(e.out, s.Msg)
		}
	}
	o.Ask = func(q string) bool {
		bar.clear()
		fmt.Fprintf(e.out, "%s [Y/n] ", q)
		line, err := e.in.ReadString('\n')
		ans := strings.ToLower(strings.TrimSpace(line))
		switch {
		case err != nil && line == "":
			fmt.Fprintln(e.err, "error: input is empty")
			ans = "?"
		case ans == "":
			ans = "y"
		}
		if !e.inTTY {
			fmt.Fprintln(e.out, ans[:1])
		}
		switch ans[0] {
		case 'y':
			return true
		case 'n':
			return false
		}
		if level >= 2 {
			fmt.Fprintln(e.out, "Answer must be either yes or no")
		}
		return false
	}
	res, _, err := pmempool.Check(path, o)
	bar.clear()
	switch res {
	case pmempool.Consistent:
		if level >= 2 {
			fmt.Fprintf(e.out, "%s: consistent\n", path)
		}
		return 0
	case pmempool.Repaired, pmempool.SyncRequired:
		if level >= 1 {
			fmt.Fprintf(e.out, "%s: %s\n", path, res)
		}
		return 0
	case pmempool.NotConsistent, pmempool.CannotRepair:
		if level >= 1 {
			fmt.Fprintf(e.out, "%s: %s\n", path, res)
		}
		return 1
	}
	if err != nil {
		fmt.Fprintf(e.err, "error: %s\n", strerror(err))
	}
	if *repair {
		fmt.Fprintf(e.err, "error: repairing failed\n")
	} else {
		fmt.Fprintf(e.err, "error: checking consistency failed\n")
	}
	return 1
}

func unwrapPath(err error) error {
	if pe, ok := errors.AsType[*os.PathError](err); ok {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

func runInfo(e *env, args []string) int {
	fs, help := flags(e, "info", "[<args>] <file>")
	asJSON := fs.Bool("json", false, "print the information as JSON (gopmdk addition; C's pmempool has no such option)")
	force := fs.StringP("force", "f", "", "force parsing a pool of specified type (blk|log)")
	fs.CountP("verbose", "v", "increase verbosity level")
	var io pmempool.InfoOptions
	fs.BoolVarP(&io.Human, "human", "n", false, "print sizes in human readable format")
	fs.BoolVarP(&io.Data, "data", "d", false, "dump log data and blk blocks")
	fs.StringVarP(&io.Range, "range", "r", "", "range of blocks/bytes/chunks")
	walk := fs.StringP("walk", "w", "", "log: chunk size")
	fs.BoolVarP(&io.Map, "map", "m", false, "blk: print BTT Map entries")
	fs.BoolVarP(&io.Flog, "flog", "g", false, "blk: print BTT FLOG entries")
	fs.BoolVarP(&io.Backup, "backup", "B", false, "blk: print BTT Info header backup")
	fs.BoolVarP(&io.SkipZeros, "skip-zeros", "z", false, "blk: skip blocks marked with zero flag")
	fs.BoolVarP(&io.SkipErrors, "skip-error", "e", false, "blk: skip blocks marked with error flag")
	fs.BoolVarP(&io.SkipNoFlag, "skip-no-flag", "u", false, "blk: skip blocks not marked with any flag")
	fs.BoolVarP(&io.Stats, "stats", "s", false, "print statistics")
	fs.BoolVarP(&io.HeadersHex, "headers-hex", "x", false, "hexdump all headers")
	if code, done := parse(e, fs, help, args, func(n int) bool { return n == 1 }); done {
		return code
	}
	if *walk != "" {
		n, err := pmempool.ParseSize(*walk)
		if err != nil || n == 0 {
			fmt.Fprintf(e.err, "error: invalid walk size -- '%s'\n", *walk)
			return 1
		}
		io.Walk = n
	}
	pi, err := pmempool.Info(fs.Arg(0))
	if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.EACCES) {
		fmt.Fprintf(e.err, "%s: %s\n", fs.Arg(0), strerror(err))
		return 1
	}
	if err != nil {
		fmt.Fprintf(e.err, "error: %v\n", unwrapPath(err))
		return 1
	}
	if *force != "" && *force != pi.Type {
		fmt.Fprintf(e.err, "error: %s: not a %s pool (signature %q)\n", fs.Arg(0), *force, pi.Header.Signature)
		return 1
	}
	if pi.Type == "unknown" {
		fmt.Fprintf(e.err, "error: %s: unknown pool type -- '%s'\n", fs.Arg(0), pi.Header.Signature)
		return 1
	}
	// C's option requirements (info.c option_requirements).
	req := map[string]string{"log": "[-d|--data]", "blk": "[-d|--data|-m|--map]"}[pi.Type]
	have := io.Data || (pi.Type == "blk" && io.Map)
	for _, o := range []struct {
		set   bool
		name  string
		types string
	}{
		{io.Range != "", "[-r|--range]", "log blk"}, {io.SkipZeros, "[-z|--skip-zeros]", "blk"},
		{io.SkipErrors, "[-e|--skip-error]", "blk"}, {io.SkipNoFlag, "[-u|--skip-no-flag]", "blk"},
	} {
		if o.set && !have && strings.Contains(o.types, pi.Type) {
			fmt.Fprintf(e.err, "error: option %s requires: %s\n", o.name, req)
			return 1
		}
	}
	if *asJSON {
		enc := json.NewEncoder(e.out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(pi); err != nil {
			fmt.Fprintf(e.err, "error: %v\n", err)
			return 1
		}
		return 0
	}
	if err := pmempool.WriteInfo(e.out, fs.Arg(0), &io); err != nil {
		fmt.Fprintf(e.err, "error: %v\n", err)
		return 1
	}
	return 0
}

func runDump(e *env, args []string) int {
	fs, help := flags(e, "dump", "[<args>] <file>")
	out := fs.StringP("output", "o", "", "output file name")
	bin := fs.BoolP("binary", "b", false, "dump data in binary format")
	rng := fs.StringP("range", "r", "", "range of bytes/blocks/data chunks")
	chunk := fs.StringP("chunk", "c", "", "size of chunk for PMEMLOG pool")
	if code, done := parse(e, fs, help, args, func(n int) bool { return n == 1 }); done {
		return code
	}
	o := &pmempool.DumpOptions{Range: *rng, Binary: *bin}
	if *chunk != "" {
		n, err := pmempool.ParseSize(*chunk)
		if err != nil || n == 0 {
			fmt.Fprintf(e.err, "error: invalid chunk size specified '%s'\n", *chunk)
			return 1
		}
		o.ChunkSize = n
	}
	w := e.out
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintf(e.err, "error: %v\n", unwrapPath(err))
			return 1
		}
		defer f.Close()
		w = f
	}
	if err := pmempool.Dump(w, fs.Arg(0), o); err != nil {
		if errors.Is(err, pmempool.ErrInvalidRange) {
			fmt.Fprintf(e.err, "error: %v\n", err)
		} else {
			fmt.Fprintf(e.err, "error: %s: %v\n", fs.Arg(0), err)
		}
		fmt.Fprintf(e.err, "error: %s: dumping pool file failed\n", fs.Arg(0))
		return 1
	}
	return 0
}

func runCreate(e *env, args []string) int {
	fs, help := flags(e, "create", "[<args>] <blk|log|obj> [<bsize>] <file>")
	size := fs.StringP("size", "s", "", "size of pool")
	maxSize := fs.BoolP("max-size", "M", false, "use maximum available space on file system")
	mode := fs.StringP("mode", "m", "0664", "set permissions to <octal>")
	inherit := fs.StringP("inherit", "i", "", "take required parameters from specified pool file")
	fs.BoolP("clear-bad-blocks", "b", false, "clear bad blocks in existing files (none are reported without NVDIMMs)")
	force := fs.BoolP("force", "f", false, "remove the pool first")
	fs.CountP("verbose", "v", "increase verbosity level")
	writeLayout := fs.BoolP("write-layout", "w", false, "force writing the BTT layout")
	fs.StringP("layout", "l", "", "layout name (obj)")
	if code, done := parse(e, fs, help, args, func(n int) bool { return n >= 1 }); done {
		return code
	}
	var o pmempool.CreateOptions
	pos := fs.Args()
	var path string
	if *inherit != "" {
		pi, err := pmempool.Info(*inherit)
		if err != nil {
			fmt.Fprintf(e.err, "error: %v\n", unwrapPath(err))
			return 1
		}
		o.Size = int64(pi.Size)
		if pi.Blk != nil {
			o.Type, o.BSize = pmempool.TypeBlk, pi.Blk.BSize
		} else if pi.Log != nil {
			o.Type = pmempool.TypeLog
		}
		path = pos[len(pos)-1]
	} else {
		switch pos[0] {
		case "log":
			o.Type = pmempool.TypeLog
		case "blk":
			o.Type = pmempool.TypeBlk
		case "obj":
			fmt.Fprintf(e.err, "error: obj pools are not supported yet by gopmdk's pmempool\n")
			return 1
		default:
			fmt.Fprintf(e.err, "error: '%s' -- unknown pool type\n", pos[0])
			return 1
		}
		want := 2
		if o.Type == pmempool.TypeBlk {
			want = 3
		}
		if len(pos) != want {
			fs.Usage()
			return 1
		}
		if o.Type == pmempool.TypeBlk {
			bs, err := pmempool.ParseSize(pos[1])
			if err != nil || bs > 1<<32-1 {
				fmt.Fprintf(e.err, "error: invalid block size -- '%s'\n", pos[1])
				return 1
			}
			if bs == 0 {
				fmt.Fprintf(e.err, "error: '%s' -- Invalid block size 0\nerror: creating pool file failed\n", pos[2])
				return 1
			}
			o.BSize = uint32(bs)
		}
		path = pos[want-1]
	}
	if *size != "" {
		n, err := pmempool.ParseSize(*size)
		if err != nil || n > 1<<62 {
			fmt.Fprintf(e.err, "error: invalid size value specified '%s'\n", *size)
			return 1
		}
		o.Size = int64(n)
	}
	if *maxSize {
		dir := path[:strings.LastIndexByte("/"+path, '/')]
		if dir == "" {
			dir = "."
		}
		var st unix.Statfs_t
		if err := unix.Statfs(dir, &st); err != nil {
			fmt.Fprintf(e.err, "error: %s: %v\n", dir, err)
			return 1
		}
		o.Size = int64(st.Bavail) * st.Bsize
	}
	m, err := strconv.ParseUint(*mode, 8, 32)
	if err != nil {
		fmt.Fprintf(e.err, "error: invalid mode value specified '%s'\n", *mode)
		return 1
	}
	o.Mode = os.FileMode(m)
	o.WriteLayout = *writeLayout
	if *force {
		_ = pmempool.Remove(path, true)
	}
	if min := pmempool.MinPoolSize(o.Type); o.Size != 0 && o.Size < min {
		fmt.Fprintf(e.err, "error: size must be >= %d bytes\n", min)
		return 1
	}
	if err := pmempool.Create(path, o); err != nil {
		if errors.Is(err, pool.ErrNotEmpty) {
			fmt.Fprintf(e.err, "error: '%s' -- Non-empty file detected\nerror: creating pool file failed\n", path)
			return 1
		}
		fmt.Fprintf(e.err, "error: creating pool file failed: %v\n", unwrapPath(err))
		return 1
	}
	return 0
}

func runRm(e *env, args []string) int {
	fs, help := flags(e, "rm", "[<args>] <file>..")
	force := fs.BoolP("force", "f", false, "ignore nonexistent files, never prompt")
	interactive := fs.BoolP("interactive", "i", false, "prompt before every single removal")
	fs.BoolP("only-pools", "s", false, "remove only pool files (default: pool set files are not removed)")
	fs.BoolP("all", "a", false, "remove all pool set files (not supported)")
	fs.BoolP("local", "l", false, "remove local pool set files (not supported)")
	verbose := fs.CountP("verbose", "v", "increase verbosity level")
	if code, done := parse(e, fs, help, args, func(n int) bool { return n >= 1 }); done {
		return code
	}
	code := 0
	for _, p := range fs.Args() {
		if *interactive && !*force {
			fmt.Fprintf(e.out, "remove file '%s' ? [Y/n] ", p)
			line, _ := e.in.ReadString('\n')
			ans := strings.ToLower(strings.TrimSpace(line))
			if ans == "" {
				ans = "y"
			}
			if !e.inTTY {
				fmt.Fprintln(e.out, ans[:1])
			}
			if ans[0] != 'y' {
				continue
			}
		}
		if err := pmempool.Remove(p, *force); err != nil {
			fmt.Fprintf(e.err, "error: cannot remove '%s': %s\n", p, strerror(err))
			code = 1
			continue
		}
		if *verbose > 0 {
			fmt.Fprintf(e.out, "removed '%s'\n", p)
		}
	}
	return code
}

func runFeature(e *env, args []string) int {
	fs, help := flags(e, "feature", "[<args>] <file>\nfeature: SINGLEHDR, CKSUM_2K, SHUTDOWN_STATE, CHECK_BAD_BLOCKS")
	enable := fs.StringP("enable", "e", "", "enable feature")
	disable := fs.StringP("disable", "d", "", "disable feature")
	query := fs.StringP("query", "q", "", "query feature")
	if code, done := parse(e, fs, help, args, func(n int) bool { return n == 1 }); done {
		return code
	}
	var name string
	n := 0
	for _, s := range []string{*enable, *disable, *query} {
		if s != "" {
			name = s
			n++
		}
	}
	f, ok := pmempool.ParseFeature(name)
	if n != 1 || !ok {
		fs.Usage()
		return 1
	}
	path := fs.Arg(0)
	var err error
	switch {
	case *query != "":
		var on bool
		if on, err = pmempool.QueryFeature(path, f); err == nil {
			fmt.Fprint(e.out, map[bool]string{false: "0", true: "1"}[on])
			return 0
		}
	case *enable != "":
		err = pmempool.SetFeature(path, f, true)
	default:
		err = pmempool.SetFeature(path, f, false)
	}
	if err != nil {
		fmt.Fprintf(e.err, "error: %v\n", unwrapPath(err))
		return 1
	}
	return 0
}

func runConvert(e *env, args []string) int {
	fs, help := flags(e, "convert", "[<args>] <file>")
	fs.StringP("version", "v", "", "target layout version (ignored)")
	fs.BoolP("yes", "X", false, "answer yes (ignored)")
	if code, done := parse(e, fs, help, args, func(n int) bool { return n == 1 }); done {
		return code
	}
	t, err := pmempool.DetectType(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(e.err, "error: %v\n", unwrapPath(err))
		return 1
	}
	if t == pmempool.TypeLog || t == pmempool.TypeBlk {
		fmt.Fprintf(e.out, "%s: %s pool already has the current layout (PMDK 1.12): nothing to convert; pmdk-convert is not needed\n", fs.Arg(0), t)
		return 0
	}
	fmt.Fprintf(e.err, "error: %s: conversion of %s pools is not supported (use pmdk-convert)\n", fs.Arg(0), t)
	return 1
}

var _ io.Writer = (*os.File)(nil)

// strerror words err as C's strerror does: the errno text, capitalised.
func strerror(err error) string {
	var en syscall.Errno
	if errors.As(err, &en) {
		t := en.Error()
		return strings.ToUpper(t[:1]) + t[1:]
	}
	return err.Error()
}
