package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/gopmdk/pmdk/core/pool"
	"github.com/gopmdk/pmdk/obj"
	"github.com/gopmdk/pmdk/tools/pmempool"
)

// flags returns a getopt-like flag set for command name: -h/--help is
// always there; parse reports errors as getopt does. An argument's name
// in the help is the word in backquotes of its usage text.
func flags(e *env, name string) (*pflag.FlagSet, *bool) {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse words the errors as C does
	fs.SortFlags = false
	fs.Usage = func() {
		fmt.Fprintf(e.out, "Usage: pmempool %s %s\n", name, commands()[name].usage)
	}
	help := fs.BoolP("help", "h", false, "display this help and exit")
	return fs, help
}

// parse parses args; done reports that the command must return code. As
// C's: an option error goes to stderr in getopt's words with the usage
// line on stdout; missing operands print the usage line alone.
func parse(e *env, fs *pflag.FlagSet, help *bool, args []string, nargs func(int) bool) (code int, done bool) {
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(e.err, "%s: %s\n", fs.Name(), optionError(err))
		fs.Usage()
		return 1, true
	}
	if *help {
		writeHelp(e.out, fs)
		return 0, true
	}
	if !nargs(fs.NArg()) {
		fs.Usage()
		return 1, true
	}
	return 0, false
}

// optionError words a parse error as getopt(3) does.
func optionError(err error) string {
	if ne, ok := errors.AsType[*pflag.NotExistError](err); ok {
		if ne.GetSpecifiedShortnames() != "" {
			return fmt.Sprintf("invalid option -- '%s'", ne.GetSpecifiedName())
		}
		return fmt.Sprintf("unrecognized option '--%s'", ne.GetSpecifiedName())
	}
	if ve, ok := errors.AsType[*pflag.ValueRequiredError](err); ok {
		if ve.GetSpecifiedShortnames() != "" {
			return fmt.Sprintf("option requires an argument -- '%s'", ve.GetSpecifiedName())
		}
		return fmt.Sprintf("option '--%s' requires an argument", ve.GetSpecifiedName())
	}
	return err.Error()
}

// writeHelp prints the help of fs's command: C's usage line, what the
// command does and its options, one a line.
func writeHelp(w io.Writer, fs *pflag.FlagSet) {
	c := commands()[fs.Name()]
	fmt.Fprintf(w, "Usage: pmempool %s %s\npmempool %s\n%s\n\nOptions:\n", fs.Name(), c.usage, version, c.about)
	fs.VisitAll(func(f *pflag.Flag) {
		arg, usage := pflag.UnquoteUsage(f)
		if t := f.Value.Type(); t == "bool" || t == "count" {
			arg = ""
		}
		opt := "    --" + f.Name
		if f.Shorthand != "" {
			opt = "-" + f.Shorthand + ", --" + f.Name
		}
		if arg != "" {
			opt += " <" + arg + ">"
		}
		fmt.Fprintf(w, "  %-26s %s\n", opt, usage)
	})
	fmt.Fprintf(w, "\nSee pmempool-%s(1) for the whole story.\n", fs.Name())
}

// describe words err for a message after a path, as C does: the errno's
// text capitalised (strerror), else the cause without the library's
// prefix, operation and path.
func describe(err error) string {
	if en, ok := errors.AsType[syscall.Errno](err); ok {
		return strerror(en)
	}
	if pe, ok := errors.AsType[*os.PathError](err); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

func runCheck(e *env, args []string) int {
	fs, help := flags(e, "check")
	repair := fs.BoolP("repair", "r", false, "try to repair a pool file if possible")
	yes := fs.BoolP("yes", "y", false, "answer yes to all questions")
	dry := fs.BoolP("dry-run", "d", false, "don't execute, just show what would be done")
	noExec := fs.BoolP("no-exec", "N", false, "deprecated alias for dry-run")
	backup := fs.StringP("backup", "b", "", "copy the pool to `file` before changing it")
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
		fmt.Fprintf(e.err, "error: %s\n", describe(err))
	}
	if *repair {
		fmt.Fprintf(e.err, "error: repairing failed\n")
	} else {
		fmt.Fprintf(e.err, "error: checking consistency failed\n")
	}
	return 1
}

func runInfo(e *env, args []string) int {
	fs, help := flags(e, "info")
	asJSON := fs.Bool("json", false, "print the information as JSON (gopmdk addition; C's pmempool has no such option)")
	force := fs.StringP("force", "f", "", "read the file as a pool of this `type` (blk|log|obj) whatever its header says")
	verbose := fs.CountP("verbose", "v", "increase verbosity level")
	badBlocks := fs.StringP("bad-blocks", "k", "", "print bad blocks: `yes|no` (there are none to print without NVDIMMs)")
	var io pmempool.InfoOptions
	fs.BoolVarP(&io.Human, "human", "n", false, "print sizes in human readable format")
	fs.BoolVarP(&io.Data, "data", "d", false, "dump log data and blk blocks")
	// -r applies to the last of -l, -O, -Z, -C before it (the pool's
	// data without one), and each -r adds its ranges, as in C.
	rt := &rangeTarget{cur: &io.Range}
	fs.VarP(&rangeValue{rt}, "range", "r", "`range` of blocks/bytes/chunks/objects (of the last -l, -O, -Z or -C)")
	walk := fs.StringP("walk", "w", "", "log: walk the data in chunks of `size`")
	fs.BoolVarP(&io.Map, "map", "m", false, "blk: print BTT Map entries")
	fs.BoolVarP(&io.Flog, "flog", "g", false, "blk: print BTT FLOG entries")
	fs.BoolVarP(&io.Backup, "backup", "B", false, "blk: print BTT Info header backup")
	fs.BoolVarP(&io.SkipZeros, "skip-zeros", "z", false, "blk: skip blocks marked with zero flag")
	fs.BoolVarP(&io.SkipErrors, "skip-error", "e", false, "blk: skip blocks marked with error flag")
	fs.BoolVarP(&io.SkipNoFlag, "skip-no-flag", "u", false, "blk: skip blocks not marked with any flag")
	fs.BoolVarP(&io.Stats, "stats", "s", false, "print statistics")
	fs.BoolVarP(&io.HeadersHex, "headers-hex", "x", false, "hexdump all headers")
	o := &io.Obj
	rangeFlag(fs, rt, &o.Lanes, &o.LaneRange, "lanes", "l", "obj: print lanes (and their logs)")
	fs.BoolVarP(&o.Recovery, "recovery", "R", false, "obj: only the lanes that need recovery")
	rangeFlag(fs, rt, &o.Objects, &io.Range, "object-store", "O", "obj: print the object store")
	fs.StringVarP(&o.Types, "types", "t", "", "obj: `range` of the type numbers of the objects shown")
	noEmpty := fs.BoolP("no-empty", "E", false, "obj: accepted, as in C (which does nothing with it)")
	fs.BoolVarP(&o.AllocHeader, "alloc-header", "A", false, "obj: print the allocation header of objects")
	fs.BoolVarP(&o.OOBHeader, "oob-header", "a", false, "obj: accepted, as in C (there is no out-of-band header to print)")
	fs.BoolVarP(&o.Root, "root", "o", false, "obj: print the root object")
	fs.BoolVarP(&o.Heap, "heap", "H", false, "obj: print the heap header")
	rangeFlag(fs, rt, &o.Zones, &o.ZoneRange, "zones", "Z", "obj: print zone headers (with -H)")
	rangeFlag(fs, rt, &o.Chunks, &o.ChunkRange, "chunks", "C", "obj: print chunk headers")
	fs.StringVarP(&o.ChunkTypes, "chunk-type", "T", "", "obj: `types` of the chunks shown: footer, free, used, run")
	fs.BoolVarP(&o.Bitmap, "bitmap", "b", false, "obj: print the bitmaps of runs (with -H and -C)")
	replica := fs.StringP("replica", "p", "", "obj: replica `number` (0: a pool file has no other)")
	section := fs.StringP("section", "S", "", "obj: not supported, as in C's pmempool 1.12.1")
	if code, done := parse(e, fs, help, args, func(int) bool { return true }); done {
		return code
	}
	if fs.Changed("section") {
		_ = *section
		fs.Usage() // C lists -S but has no case for it
		return 1
	}
	// As C, arguments are checked while parsing, before the operands.
	if rt.bad != "" {
		fmt.Fprintf(e.err, "error: '%s' -- cannot parse range(s)\n", rt.bad)
		return 1
	}
	if _, err := pmempool.ParseRanges(o.Types, math.MaxUint64); err != nil {
		fmt.Fprintf(e.err, "error: '%s' -- cannot parse range(s)\n", o.Types)
		return 1
	}
	if o.ChunkTypes != "" {
		if _, err := pmempool.ParseChunkTypes(o.ChunkTypes); err != nil {
			fmt.Fprintf(e.err, "error: %v\n", err)
			return 1
		}
	}
	if fs.Changed("replica") {
		if _, err := strconv.ParseInt(*replica, 10, 64); err != nil {
			fmt.Fprintf(e.err, "error: '%s' -- invalid replica number\n", *replica)
			return 1
		}
	}
	_ = *noEmpty
	// As C, the argument of -k is checked with the options (it may have
	// taken the file's place), then the operands.
	if *badBlocks != "" && *badBlocks != "yes" && *badBlocks != "no" {
		fmt.Fprintf(e.err, "error: '%s' -- invalid argument of the '-k/--bad-blocks' option\n", *badBlocks)
		return 1
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 1
	}
	path := fs.Arg(0) // as C's, extra operands are ignored
	if *force != "" {
		t, err := pmempool.ParseType(*force)
		if err != nil {
			fmt.Fprintf(e.err, "error: %v\n", err)
			return 1
		}
		io.Type = t
	}
	io.Verbose = *verbose > 0
	if *walk != "" {
		n, err := pmempool.ParseSize(*walk)
		if err != nil || n == 0 {
			fmt.Fprintf(e.err, "error: invalid walk size -- '%s'\n", *walk)
			return 1
		}
		io.Walk = n
	}
	pi, err := pmempool.InfoAs(path, io.Type)
	if _, ok := errors.AsType[syscall.Errno](err); ok {
		fmt.Fprintf(e.err, "%s: %s\n", path, describe(err))
		return 1
	}
	if err == nil {
		err = pi.CheckReadable()
	}
	if err != nil {
		fmt.Fprintf(e.err, "error: %s: %s\n", path, describe(err))
		return 1
	}
	set := map[byte]bool{}
	fs.Visit(func(f *pflag.Flag) {
		if f.Shorthand != "" {
			set[f.Shorthand[0]] = true
		}
	})
	if msg := infoOptionError(pi.Type, set); msg != "" {
		fmt.Fprintf(e.err, "error: %s\n", msg)
		return 1
	}
	if n, _ := strconv.ParseInt(*replica, 10, 64); n != 0 {
		fmt.Fprintf(e.err, "error: only master replica available\n")
		return 1
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
	if err := pmempool.WriteInfo(e.out, path, &io); err != nil {
		fmt.Fprintf(e.err, "error: %v\n", err)
		return 1
	}
	return 0
}

// infoOptionError returns C's refusal of an info option that does not fit
// the pool type t or lacks an option it requires (util_options_verify:
// the options in C's table order, each checked for its type, then for its
// requirements), or "". set holds the short names of the options given.
func infoOptionError(t string, set map[byte]bool) string {
	long := map[byte]string{'d': "data", 'm': "map", 'O': "object-store", 'Z': "zones", 'C': "chunks", 'l': "lanes",
		'o': "root", 's': "stats", 'H': "heap"}
	for _, c := range []struct {
		short byte
		name  string
		types string // the pool types the option is valid for; "" all
		req   map[string][]string
	}{
		{'d', "data", "", map[string][]string{"obj": {"Oo"}}},
		{'r', "range", "", map[string][]string{"log": {"d"}, "blk": {"dm"}, "obj": {"OZCl"}}},
		{'w', "walk", "log", nil},
		{'z', "skip-zeros", "blk", map[string][]string{"blk": {"dm"}}},
		{'e', "skip-error", "blk", map[string][]string{"blk": {"dm"}}},
		{'u', "skip-no-flag", "blk", map[string][]string{"blk": {"dm"}}},
		{'m', "map", "blk", nil}, {'g', "flog", "blk", nil}, {'B', "backup", "blk", nil},
		{'l', "lanes", "obj", nil}, {'R', "recovery", "obj", map[string][]string{"obj": {"l"}}},
		{'O', "object-store", "obj", nil}, {'t', "types", "obj", map[string][]string{"obj": {"Os"}}},
		{'E', "no-empty", "obj", map[string][]string{"obj": {"O"}}},
		{'A', "alloc-header", "obj", map[string][]string{"obj": {"Olo"}}},
		{'a', "oob-header", "obj", map[string][]string{"obj": {"Olo"}}},
		{'o', "root", "obj", nil}, {'H', "heap", "obj", nil},
		{'Z', "zones", "obj", map[string][]string{"obj": {"OHs"}}},
		{'C', "chunks", "obj", map[string][]string{"obj": {"OHs"}}},
		{'T', "chunk-type", "obj", map[string][]string{"obj": {"C"}}},
		{'b', "bitmap", "obj", map[string][]string{"obj": {"H", "C"}}},
		{'p', "replica", "obj", nil},
	} {
		if !set[c.short] {
			continue
		}
		if c.types != "" && c.types != t {
			return fmt.Sprintf("'--%s|-%c' -- invalid option specified for pool type '%s'", c.name, c.short, t)
		}
		groups := c.req[t]
		ok := true
		for _, g := range groups {
			hit := false
			for i := range len(g) {
				hit = hit || set[g[i]]
			}
			ok = ok && hit
		}
		if ok {
			continue
		}
		var sb strings.Builder
		fmt.Fprintf(&sb, "option [-%c|--%s] requires: ", c.short, c.name)
		for i, g := range groups {
			if i > 0 {
				sb.WriteString(" and ")
			}
			sb.WriteByte('[')
			for j := range len(g) {
				if j > 0 {
					sb.WriteByte('|')
				}
				fmt.Fprintf(&sb, "-%c|--%s", g[j], long[g[j]])
			}
			sb.WriteByte(']')
		}
		return sb.String()
	}
	return ""
}

// rangeTarget is where the next -r of info goes: the ranges of the last
// of -l, -O, -Z, -C given before it.
type rangeTarget struct {
	cur   *string
	given bool
	bad   string // the first -r C cannot parse
}

// rangeValue is info's -r: each adds its ranges to the current target.
type rangeValue struct{ t *rangeTarget }

func (v *rangeValue) String() string { return "" }
func (v *rangeValue) Type() string   { return "string" }
func (v *rangeValue) Set(s string) error {
	v.t.given = true
	if _, err := pmempool.ParseRanges(s, math.MaxUint64); err != nil && v.t.bad == "" {
		v.t.bad = s
	}
	if *v.t.cur != "" {
		s = *v.t.cur + "," + s
	}
	*v.t.cur = s
	return nil
}

// switchValue is an option that, set, also makes the following -r
// options apply to its ranges.
type switchValue struct {
	on     *bool
	ranges *string
	t      *rangeTarget
}

func (v *switchValue) String() string { return "false" }
func (v *switchValue) Type() string   { return "bool" }
func (v *switchValue) Set(string) error {
	*v.on = true
	v.t.cur = v.ranges
	return nil
}

func rangeFlag(fs *pflag.FlagSet, t *rangeTarget, on *bool, ranges *string, name, short, usage string) {
	f := fs.VarPF(&switchValue{on, ranges, t}, name, short, usage)
	f.NoOptDefVal = "true"
}

func runDump(e *env, args []string) int {
	fs, help := flags(e, "dump")
	out := fs.StringP("output", "o", "", "write to `file` instead of stdout")
	bin := fs.BoolP("binary", "b", false, "dump data in binary format")
	rng := fs.StringP("range", "r", "", "`range` of bytes/blocks/data chunks")
	chunk := fs.StringP("chunk", "c", "", "log: dump in chunks of `size`")
	if code, done := parse(e, fs, help, args, func(n int) bool { return n >= 1 }); done {
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
			fmt.Fprintf(e.err, "error: %s: %s\n", *out, describe(err))
			return 1
		}
		defer f.Close()
		w = f
	}
	if err := pmempool.Dump(w, fs.Arg(0), o); err != nil {
		if errors.Is(err, pmempool.ErrDumpObj) {
			fmt.Fprintf(e.err, "error: %s: PMEMOBJ pool not supported\n", fs.Arg(0)) // C's only line
			return 1
		}
		if errors.Is(err, pmempool.ErrInvalidRange) {
			fmt.Fprintf(e.err, "error: %v\n", err)
		} else {
			fmt.Fprintf(e.err, "error: %s: %s\n", fs.Arg(0), describe(err))
		}
		fmt.Fprintf(e.err, "error: %s: dumping pool file failed\n", fs.Arg(0))
		return 1
	}
	return 0
}

func runCreate(e *env, args []string) int {
	fs, help := flags(e, "create")
	size := fs.StringP("size", "s", "", "`size` of the pool (K, M, G... binary units; KB, MB... decimal)")
	maxSize := fs.BoolP("max-size", "M", false, "take all the free space of the file system (on tmpfs, RAM: with -f only)")
	mode := fs.StringP("mode", "m", "0664", "set permissions to `octal`")
	inherit := fs.StringP("inherit", "i", "", "take type, size and block size from the pool `file`")
	fs.BoolP("clear-bad-blocks", "b", false, "clear bad blocks in existing files (none are reported without NVDIMMs)")
	force := fs.BoolP("force", "f", false, "remove the pool first")
	verbose := fs.CountP("verbose", "v", "print what is created")
	writeLayout := fs.BoolP("write-layout", "w", false, "blk: write the BTT layout now")
	layout := fs.StringP("layout", "l", "", "obj: `layout` name")
	if code, done := parse(e, fs, help, args, func(n int) bool { return n >= 1 }); done {
		return code
	}
	var o pmempool.CreateOptions
	pos := fs.Args()
	path := pos[len(pos)-1]
	if *inherit != "" {
		if len(pos) != 1 {
			fs.Usage()
			return 1
		}
		pi, err := pmempool.Info(*inherit)
		if err != nil {
			fmt.Fprintf(e.err, "%s: %s\nerror: parsing pool '%s' failed\n", *inherit, describe(err), *inherit)
			return 1
		}
		o.Size = int64(pi.Size)
		switch {
		case pi.Blk != nil:
			o.Type, o.BSize = pmempool.TypeBlk, pi.Blk.BSize
		case pi.Log != nil:
			o.Type = pmempool.TypeLog
		case pi.Obj != nil:
			// C shows the inherited layout in its -v summary but
			// creates the pool without it; ours creates what it shows.
			o.Type, o.Layout = pmempool.TypeObj, pi.Obj.Layout
		}
		st, err := os.Stat(*inherit)
		if err != nil {
			fmt.Fprintf(e.err, "%s: %s\nerror: parsing pool '%s' failed\n", *inherit, describe(err), *inherit)
			return 1
		}
		o.Mode = st.Mode().Perm()
		if *verbose > 0 {
			createSummary(e.out, fmt.Sprintf("Parsing pool: '%s'", *inherit), o, "0"+strconv.FormatUint(uint64(fileMode(st)), 8))
		}
	} else {
		switch pos[0] {
		case "log":
			o.Type = pmempool.TypeLog
		case "blk":
			o.Type = pmempool.TypeBlk
		case "obj":
			o.Type = pmempool.TypeObj
		default:
			fmt.Fprintf(e.err, "error: '%s' -- unknown pool type\n", pos[0])
			return 1
		}
		switch {
		case len(pos) < 2:
			fs.Usage()
			return 1
		case o.Type != pmempool.TypeBlk && len(pos) > 2:
			fmt.Fprintf(e.err, "error: invalid option specified for %s pool type -- block size\n", o.Type)
			return 1
		case o.Type == pmempool.TypeBlk && len(pos) < 3:
			fmt.Fprintf(e.err, "error: blk pool requires <bsize> argument\n")
			return 1
		case len(pos) > 3:
			fmt.Fprintf(e.err, "error: too many arguments: %q\n", pos[3:])
			return 1
		}
		if o.Type == pmempool.TypeBlk {
			bs, err := parseCreateSize(pos[1], false)
			if err != nil || bs > 1<<32-1 {
				fmt.Fprintf(e.err, "error: cannot parse '%s' as block size\n", pos[1])
				return 1
			}
			if bs == 0 {
				fmt.Fprintf(e.err, "error: '%s' -- Invalid block size 0\nerror: creating pool file failed\n", path)
				return 1
			}
			o.BSize = uint32(bs)
		}
		if o.Type == pmempool.TypeObj && len(*layout) >= obj.MaxLayout {
			fmt.Fprintf(e.err, "error: Layout name is too long, maximum number of characters (including the terminating null byte) is %d\n", obj.MaxLayout)
			return 1
		}
	}
	// C's per-type options (util_options_verify).
	if fs.Changed("layout") && o.Type != pmempool.TypeObj {
		fmt.Fprintf(e.err, "error: '--layout|-l' -- invalid option specified for pool type '%s'\n", o.Type)
		return 1
	}
	if *writeLayout && o.Type != pmempool.TypeBlk {
		fmt.Fprintf(e.err, "error: '--write-layout|-w' -- invalid option specified for pool type '%s'\n", o.Type)
		return 1
	}
	if fs.Changed("layout") {
		if len(*layout) >= obj.MaxLayout {
			*layout = (*layout)[:obj.MaxLayout-1] // -i: C cuts it
		}
		o.Layout = *layout
	}
	if *size != "" {
		n, err := parseCreateSize(*size, true)
		if err != nil || n == 0 || n > 1<<62 {
			fmt.Fprintf(e.err, "error: invalid size value specified '%s'\n", *size)
			return 1
		}
		o.Size = int64(n)
	}
	m, err := strconv.ParseUint(*mode, 8, 32)
	if err != nil {
		fmt.Fprintf(e.err, "error: invalid mode value specified '%s'\n", *mode)
		return 1
	}
	if *inherit == "" || fs.Changed("mode") {
		o.Mode = os.FileMode(m)
	}
	o.WriteLayout = *writeLayout
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		// Before -f: a directory is never removed.
		fmt.Fprintf(e.err, "error: '%s' -- %s\nerror: creating pool file failed\n", path, strerror(syscall.EISDIR))
		return 1
	}
	if *maxSize {
		n, ok := maxPoolSize(e, path, *force)
		if !ok {
			return 1
		}
		o.Size = n
	}
	if *force {
		_ = pmempool.Remove(path, true) // a pool in use stays, and create says so
	}
	if min := pmempool.MinPoolSize(o.Type); o.Size != 0 && o.Size < min {
		fmt.Fprintf(e.err, "error: size must be >= %d bytes\n", min)
		return 1
	}
	if *verbose > 0 {
		if o.Size == 0 && *inherit == "" && !fileExists(path) {
			fmt.Fprintf(e.out, "No size option passed - picking minimum pool size.\n")
			o.Size = pmempool.MinPoolSize(o.Type)
		}
		m := fmt.Sprintf("%04o", uint32(o.Mode))
		if *inherit != "" && !fs.Changed("mode") {
			m = fmt.Sprintf("0%o", uint32(o.Mode)|syscall.S_IFREG) // C shows the inherited st_mode
		}
		createSummary(e.out, "Creating pool: "+path, o, m)
	}
	existed := fileExists(path)
	if err := pmempool.Create(path, o); err != nil {
		msg := describe(err)
		if errors.Is(err, pool.ErrNotEmpty) {
			msg = "Non-empty file detected"
		}
		fmt.Fprintf(e.err, "error: '%s' -- %s\nerror: creating pool file failed\n", path, msg)
		return 1
	}
	if !existed {
		// C's pmempool sets umask 0: a new file gets the mode asked.
		if err := os.Chmod(path, o.Mode.Perm()); err != nil {
			fmt.Fprintf(e.err, "error: '%s' -- %s\n", path, describe(err))
			return 1
		}
	}
	return 0
}

// createSummary prints what create -v makes, as C does.
func createSummary(w io.Writer, title string, o pmempool.CreateOptions, mode string) {
	fmt.Fprintf(w, "%s\n", title)
	size := "0"
	if o.Size != 0 {
		size = fmt.Sprintf("%s [%d]", pmempool.FormatSize(uint64(o.Size)), o.Size)
	}
	fmt.Fprintf(w, "\ttype  : %s\n\tsize  : %s\n\tmode  : %s\n", o.Type, size, mode)
	switch o.Type {
	case pmempool.TypeBlk:
		fmt.Fprintf(w, "\tbsize : %d\n", o.BSize)
	case pmempool.TypeObj:
		fmt.Fprintf(w, "\tlayout: '%s'\n", o.Layout)
	}
}

// fileMode is st's mode as st_mode holds it: file type bits and
// permissions.
func fileMode(st os.FileInfo) uint32 {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return sys.Mode
	}
	return uint32(st.Mode().Perm())
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// parseCreateSize parses a size of create as C does: a number with an
// optional unit of upper-case letters, K to E (binary, also KiB...), and
// with decimal the decimal units KB to EB. "20m" and "4k" are refused.
func parseCreateSize(s string, decimal bool) (uint64, error) {
	unit := strings.TrimLeft(s, "0123456789")
	switch {
	case unit == "" || unit == "B":
	case !strings.ContainsRune("KMGTPE", rune(unit[0])),
		unit[1:] != "" && unit[1:] != "iB" && (unit[1:] != "B" || !decimal):
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return pmempool.ParseSize(s)
}

// tmpfsMagic is the f_type statfs(2) reports for tmpfs (TMPFS_MAGIC).
const tmpfsMagic = 0x01021994

// maxPoolSize is the size create -M takes: the free space of path's file
// system, as C. On tmpfs that space is RAM (and swap): C allocates all of
// it; here that needs -f, and a warning is printed even then.
func maxPoolSize(e *env, path string, force bool) (int64, bool) {
	dir := filepath.Dir(path)
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		fmt.Fprintf(e.err, "error: %s: %s\n", dir, describe(err))
		return 0, false
	}
	n := int64(st.Bavail) * st.Bsize
	if st.Type == tmpfsMagic {
		if !force {
			fmt.Fprintf(e.err, "error: '%s' is on tmpfs: -M would take all its %s of free memory; add -f to do it anyway\n", path, pmempool.FormatSize(uint64(n)))
			return 0, false
		}
		fmt.Fprintf(e.err, "warning: '%s' is on tmpfs: the pool takes all its %s of free memory\n", path, pmempool.FormatSize(uint64(n)))
	}
	return n, true
}

func runRm(e *env, args []string) int {
	fs, help := flags(e, "rm")
	force := fs.BoolP("force", "f", false, "ignore nonexistent files and every error, never prompt")
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
			// As C: -f ignores every error (a directory, a pool
			// in use), which is still not removed.
			if !*force {
				fmt.Fprintf(e.err, "error: cannot remove '%s': %s\n", p, describe(err))
				code = 1
			}
			continue
		}
		if *verbose > 1 {
			fmt.Fprintf(e.out, "pool file   : %s\n", p)
		}
		if *verbose > 0 {
			fmt.Fprintf(e.out, "removed '%s'\n", p)
		}
	}
	return code
}

func runFeature(e *env, args []string) int {
	fs, help := flags(e, "feature")
	enable := fs.StringP("enable", "e", "", "enable `feature`")
	disable := fs.StringP("disable", "d", "", "disable `feature`")
	query := fs.StringP("query", "q", "", "print 1 if `feature` is on, else 0")
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
	if n == 0 {
		fmt.Fprintf(e.err, "error: one of -e, -d and -q is needed\n")
		return 1
	}
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
		fmt.Fprintf(e.err, "error: %s: %s\n", path, describe(err))
		return 1
	}
	return 0
}

// runConvert is pmdk-convert, which C's pmempool convert executes with
// the same arguments.
func runConvert(e *env, args []string) int {
	return pmempool.RunConvert(args, e.in, e.out, e.err)
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

func runSync(e *env, args []string) int {
	fs, help := flags(e, "sync")
	badBlocks := fs.BoolP("bad-blocks", "b", false, "fix bad blocks (none are detected here)")
	dry := fs.BoolP("dry-run", "d", false, "only check that the poolset can be synchronized")
	verbose := fs.CountP("verbose", "v", "increase verbosity level")
	if code, done := parse(e, fs, help, args, func(n int) bool { return n == 1 }); done {
		return code
	}
	path := fs.Arg(0)
	if err := pmempool.Sync(path, pmempool.SyncOptions{DryRun: *dry, BadBlocks: *badBlocks}); err != nil {
		fmt.Fprintf(e.err, "error: failed to synchronize: %s\n", err)
		if msg := errnoText(err); msg != "" {
			fmt.Fprintf(e.err, "error: %s\n", msg)
		}
		return 1
	}
	if *verbose > 0 {
		fmt.Fprintf(e.out, "%s: synchronized\n", path)
	}
	return 0
}

func runTransform(e *env, args []string) int {
	fs, help := flags(e, "transform")
	dry := fs.BoolP("dry-run", "d", false, "only check that the transform can be done")
	verbose := fs.CountP("verbose", "v", "increase verbosity level")
	if code, done := parse(e, fs, help, args, func(n int) bool { return n == 2 }); done {
		return code
	}
	src, dst := fs.Arg(0), fs.Arg(1)
	if err := pmempool.Transform(src, dst, pmempool.TransformOptions{DryRun: *dry}); err != nil {
		if msg := errnoText(err); msg != "" {
			fmt.Fprintf(e.err, "error: %s\n", msg)
		}
		fmt.Fprintf(e.err, "error: failed to transform %s -> %s: %s\n", src, dst, err)
		return 1
	}
	if *verbose > 0 {
		fmt.Fprintf(e.out, "%s -> %s: transformed\n", src, dst)
	}
	return 0
}

// errnoText is the strerror text of the errno C's library would set for
// err, or "".
func errnoText(err error) string {
	if en, ok := errors.AsType[syscall.Errno](err); ok {
		return strerror(en)
	}
	for _, c := range []struct {
		target error
		en     syscall.Errno
	}{{iofs.ErrInvalid, syscall.EINVAL}, {iofs.ErrExist, syscall.EEXIST}, {iofs.ErrNotExist, syscall.ENOENT}} {
		if errors.Is(err, c.target) {
			return strerror(c.en)
		}
	}
	return ""
}
