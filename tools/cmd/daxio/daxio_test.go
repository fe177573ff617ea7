package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/sys/unix"

	"github.com/gopmdk/pmdk/hal/sysfs/sysfstest"
)

// cDaxio is C PMDK's daxio, the oracle of the comparisons.
const cDaxio = "/usr/bin/daxio"

// result is what one run of daxio left: exit status, output streams.
type result struct {
	code           int
	stdout, stderr string
}

// runGo runs our daxio in-process in the current directory.
func runGo(t *testing.T, e env, stdin []byte, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	e.prog = "daxio"
	e.stdin = bytes.NewReader(stdin)
	e.stdout, e.stderr = &out, &errb
	code := run(&e, args)
	return result{code, out.String(), errb.String()}
}

// runC runs C's daxio in dir, named "daxio" so that getopt's messages
// compare equal, with stdin empty.
func runC(t *testing.T, dir string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := &exec.Cmd{Path: cDaxio, Args: append([]string{"daxio"}, args...), Dir: dir, Stdout: &out, Stderr: &errb}
	err := cmd.Run()
	code := 0
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("C daxio: %v", err)
	}
	return result{code, out.String(), errb.String()}
}

// listing describes a directory's files: name, mode, size.
func listing(t *testing.T, dir string) []string {
	t.Helper()
	var l []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		st, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		l = append(l, fmt.Sprintf("%s %v %d", rel, st.Mode(), st.Size()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(l)
	return l
}

// populate gives dir the files every argument case may name.
func populate(t *testing.T, dir string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "in.txt"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// usageText is the help and usage text, as ours prints it.
func usageText() string {
	var b strings.Builder
	usage(&b)
	return b.String()
}

// TestArgumentsAgainstC runs every case that needs no Device DAX through
// our daxio, checks our own expectation, and, where C's daxio is
// installed, compares exit status, stdout, stderr and the files left
// behind with C's.
func TestArgumentsAgainstC(t *testing.T) {
	haveC := true
	if _, err := os.Stat(cDaxio); err != nil {
		haveC = false
	}
	usage := usageText()
	neither := "daxio: neither input nor output is device dax\n"
	cases := []struct {
		args   []string
		code   int
		stderr string // exact, when stdout is "" and this is not "~..."; "~" prefix: substring
		stdout string
	}{
		{nil, 1, "daxio: an input file and/or an output file must be provided\n", ""},
		{[]string{"-z"}, 1, "daxio: zeroing flag specified but no output file provided\n", ""},
		{[]string{"-z", "-i", "in.txt"}, 1, "daxio: zeroing flag specified but no output file provided\n", ""},
		{[]string{"-zi", "in.txt"}, 1, "daxio: zeroing flag specified but no output file provided\n", ""},
		{[]string{"--ze", "-i", "in.txt"}, 1, "daxio: zeroing flag specified but no output file provided\n", ""},
		{[]string{"-i"}, 1, "daxio: option requires an argument -- 'i'\n" + usage, ""},
		{[]string{"--input"}, 1, "daxio: option '--input' requires an argument\n" + usage, ""},
		{[]string{"-iin.txt", "-o"}, 1, "daxio: option requires an argument -- 'o'\n" + usage, ""},
		{[]string{"-x"}, 1, "daxio: invalid option -- 'x'\n" + usage, ""},
		{[]string{"--foo"}, 1, "daxio: unrecognized option '--foo'\n" + usage, ""},
		{[]string{"--foo=bar"}, 1, "daxio: unrecognized option '--foo=bar'\n" + usage, ""},
		{[]string{"--zero=1"}, 1, "daxio: option '--zero' doesn't allow an argument\n" + usage, ""},
		{[]string{"--s=1", "-i", "in.txt"}, 1, "daxio: option '--s=1' is ambiguous; possibilities: '--skip' '--seek'\n" + usage, ""},
		{[]string{"--=x"}, 1, "~is ambiguous; possibilities: '--input' '--output'", ""},
		{[]string{"--clear"}, 1, "daxio: option '--clear-bad-blocks' requires an argument\n" + usage, ""},
		{[]string{"-h"}, 0, usage, ""},
		{[]string{"--he"}, 0, usage, ""},
		{[]string{"-h", "-l", "abc"}, 0, usage, ""},
		{[]string{"-l", "abc", "-h"}, 1, "daxio: 'abc' -- invalid length\n", ""},
		{[]string{"-V"}, 0, "", version + "\n"},
		{[]string{"--v", "-x"}, 0, "", version + "\n"},
		{[]string{"-i", "in.txt"}, 1, neither, ""},
		{[]string{"--inp=in.txt"}, 1, neither, ""},
		{[]string{"-i", "in.txt", "-o", "out.txt"}, 1, neither, ""}, // out.txt is created, as by C
		{[]string{"-i", "in.txt", "-o", "in.txt", "-s", "1M", "-k", "2"}, 1, neither, ""},
		{[]string{"-z", "-o", "in.txt"}, 1, neither, ""},
		{[]string{"-z", "-o", "new.txt", "-i", "nonexistent"}, 1, neither, ""},
		{[]string{"extra", "-i", "in.txt", "args"}, 1, neither, ""},
		{[]string{"--", "-i", "in.txt"}, 1, "daxio: an input file and/or an output file must be provided\n", ""},
		{[]string{"-"}, 1, "daxio: an input file and/or an output file must be provided\n", ""},
		{[]string{"-i", "/dev/null", "-o", "/dev/null"}, 1, neither, ""},
		{[]string{"-i", "/dev/zero"}, 1, neither, ""},
		{[]string{"-i", "nonexistent", "-o", "out"}, 1, "daxio: failed to open 'nonexistent': No such file or directory\n", ""},
		{[]string{"-i", "in.txt", "-o", "nodir/out"}, 1, "daxio: setup_device:336: open: No such file or directory\n", ""},
		{[]string{"-i", "sub", "-o", "out"}, 1, "daxio: failed to open 'sub': Is a directory\n", ""},
		{[]string{"-i", "fifo", "-o", "out"}, 1, "", ""}, // neither regular nor device: C fails silently
		{[]string{"-l", "4k", "-i", "in.txt"}, 1, "daxio: '4k' -- invalid length\n", ""},
		{[]string{"-l", "4KB", "-i", "in.txt"}, 1, "daxio: '4KB' -- invalid length\n", ""},
		{[]string{"-l", "4kB", "-i", "in.txt"}, 1, neither, ""},
		{[]string{"-l", "12 K", "-i", "in.txt"}, 1, neither, ""},
		{[]string{"-l", " +12GiB", "-i", "in.txt"}, 1, neither, ""},
		{[]string{"-l", "-1", "-i", "in.txt"}, 1, neither, ""},
		{[]string{"-l", "99999999999999999999999", "-i", "in.txt"}, 1, neither, ""},
		{[]string{"-l", "12Kxxxxxxxx", "-i", "in.txt"}, 1, "daxio: '12Kxxxxxxxx' -- invalid length\n", ""},
		{[]string{"-l", "0x10", "-i", "in.txt"}, 1, "daxio: '0x10' -- invalid length\n", ""},
		{[]string{"-l", "", "-i", "in.txt"}, 1, "daxio: '' -- invalid length\n", ""},
		{[]string{"-k", "1x", "-i", "in.txt"}, 1, "daxio: '1x' -- invalid input offset\n", ""},
		{[]string{"--seek="}, 1, "daxio: '' -- invalid output offset\n", ""},
		{[]string{"-k", "1", "-o", "in.txt"}, 1, "daxio: skip offset specified but no input file provided\n", ""},
		{[]string{"-z", "-k", "5", "-o", "x"}, 1, "daxio: skip offset specified but no input file provided\n", ""},
		{[]string{"-s", "1", "-i", "in.txt"}, 1, "daxio: seek offset specified but no output file provided\n", ""},
		{[]string{"-b", "maybe"}, 1, "daxio: 'maybe' -- invalid argument of the '--clear-bad-blocks' option\n", ""},
		{[]string{"--clear-bad-blocks=no", "-i", "in.txt"}, 1, neither, ""},
		{[]string{"-b", "yes", "-b", "no", "-o", "x"}, 1, neither, ""},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			goDir, cDir := t.TempDir(), t.TempDir()
			populate(t, goDir)
			populate(t, cDir)
			t.Chdir(goDir)
			got := runGo(t, env{}, nil, c.args...)
			if got.code != c.code || got.stdout != c.stdout {
				t.Errorf("ours: status %d, stdout %q; want %d, %q", got.code, got.stdout, c.code, c.stdout)
			}
			if sub, ok := strings.CutPrefix(c.stderr, "~"); ok {
				if !strings.Contains(got.stderr, sub) {
					t.Errorf("ours: stderr %q, want it to hold %q", got.stderr, sub)
				}
			} else if got.stderr != c.stderr {
				t.Errorf("ours: stderr\n%s\nwant\n%s", got.stderr, c.stderr)
			}
			if !haveC {
				return
			}
			want := runC(t, cDir, c.args...)
			// The one known difference: C's help has a typo, "-h. --help".
			want.stderr = strings.Replace(want.stderr, "-h. --help", "-h, --help", 1)
			if want.code != got.code || want.stdout != strings.Replace(got.stdout, version, "1.12.1", 1) || want.stderr != got.stderr {
				t.Errorf("ours %+v\nC's  %+v", got, want)
			}
			if g, w := listing(t, goDir), listing(t, cDir); !reflect.DeepEqual(g, w) {
				t.Errorf("files left: ours %q, C's %q", g, w)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	cases := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true},
		{"4096", 4096, true},
		{"4K", 4 << 10, true},
		{"4KiB", 4 << 10, true},
		{"2M", 2 << 20, true},
		{"3GiB", 3 << 30, true},
		{"1T", 1 << 40, true},
		{"1PiB", 1 << 50, true},
		{"5kB", 5000, true},
		{"5MB", 5e6, true},
		{"1PB", 1e15, true},
		{"7B", 7, true},
		{"  12  K  ignored", 12 << 10, true},
		{"+3", 3, true},
		{"-1", 1<<64 - 1, true},
		{"-2K", 1<<64 - 2048, true}, // wraps, as C
		{"18446744073709551616", 1<<64 - 1, true},
		{"-18446744073709551616", 1<<64 - 1, true},
		{"", 0, false},
		{"K", 0, false},
		{"-", 0, false},
		{"4k", 0, false},
		{"4KB", 0, false},
		{"4kiB", 0, false},
		{"0x10", 0, false},
		{"4Kxxxxxxxx", 0, false},
		{"1.5M", 0, false},
	}
	for _, c := range cases {
		got, ok := parseSize(c.in)
		if ok != c.ok || got != c.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestAssumeDAXFromEnv(t *testing.T) {
	got := assumeDAXFrom("a" + string(os.PathListSeparator) + "/b/c")
	if want := map[string]bool{"a": true, "/b/c": true}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if got := assumeDAXFrom(""); got != nil {
		t.Fatalf("empty: %v", got)
	}
}

// pattern returns n bytes that differ at every offset of a small file.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7+i/251) ^ seed
	}
	return b
}

func writeFile(t *testing.T, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCopiesAssumeDAX runs the copy paths on regular files that the test
// hook makes count as Device DAX ("dax", page-aligned), checking every
// byte of the results.
func TestCopiesAssumeDAX(t *testing.T) {
	const daxSize = 64 << 10
	dir := t.TempDir()
	t.Chdir(dir)
	src := pattern(100000, 0)
	fill := bytes.Repeat([]byte{0xee}, daxSize)
	e := env{assumeDAX: map[string]bool{"dax": true, "dax2": true}}
	reset := func() {
		writeFile(t, "src", src)
		writeFile(t, "dax", fill)
		writeFile(t, "dax2", pattern(daxSize, 0x5a))
		_ = os.Remove("out")
	}
	type check func(t *testing.T)
	expect := func(name string, off int, want []byte) check {
		return func(t *testing.T) {
			got := readFile(t, name)
			if len(got) < off+len(want) || !bytes.Equal(got[off:off+len(want)], want) {
				t.Errorf("%s[%d:%d] is not what was copied", name, off, off+len(want))
			}
		}
	}
	untouched := func(name string, from, to int, b byte) check {
		return func(t *testing.T) {
			got := readFile(t, name)
			if to > len(got) {
				t.Fatalf("%s has %d bytes, want at least %d", name, len(got), to)
			}
			for i := from; i < to; i++ {
				if got[i] != b {
					t.Fatalf("%s[%d] = %#x, want %#x", name, i, got[i], b)
				}
			}
		}
	}
	size := func(name string, n int64) check {
		return func(t *testing.T) {
			st, err := os.Stat(name)
			if err != nil || st.Size() != n {
				t.Errorf("%s: %v, size want %d", name, err, n)
			}
		}
	}
	dax2 := pattern(daxSize, 0x5a)
	cases := []struct {
		name   string
		args   []string
		stdin  []byte
		stderr string
		stdout []byte
		checks []check
	}{
		{"file to dax, skip seek len", []string{"-i", "src", "-o", "dax", "-k", "10", "-s", "4097", "-l", "1000"}, nil,
			"daxio: copied 1000 bytes to device \"dax\"\n", nil,
			[]check{expect("dax", 4097, src[10:1010]), untouched("dax", 0, 4097, 0xee), untouched("dax", 5097, daxSize, 0xee)}},
		{"file to dax, length from the device", []string{"-i", "src", "-o", "dax", "-s", "8K"}, nil,
			"daxio: copied 57344 bytes to device \"dax\"\n", nil,
			[]check{expect("dax", 8<<10, src[:daxSize-8<<10]), untouched("dax", 0, 8<<10, 0xee)}},
		{"file to dax, length beyond the device", []string{"-i", "src", "-o", "dax", "-s", "60K", "-l", "1M"}, nil,
			"daxio: copied 4096 bytes to device \"dax\"\n", nil,
			[]check{expect("dax", 60<<10, src[:4096]), size("dax", daxSize)}},
		{"short file to dax", []string{"-i", "src", "-o", "dax", "-k", "99000"}, nil,
			"daxio: requested size 65536 larger than source\ndaxio: copied 1000 bytes to device \"dax\"\n", nil,
			[]check{expect("dax", 0, src[99000:]), untouched("dax", 1000, daxSize, 0xee)}},
		{"stdin to dax", []string{"-o", "dax", "-s", "3", "-l", "5"}, []byte("abcdefgh"),
			"daxio: copied 5 bytes to device \"dax\"\n", nil,
			[]check{expect("dax", 0, []byte{0xee, 0xee, 0xee, 'a', 'b', 'c', 'd', 'e', 0xee})}},
		{"dax to new file", []string{"-i", "dax2", "-o", "out", "-k", "5000", "-l", "3000"}, nil,
			"daxio: copied 3000 bytes to device \"out\"\n", nil,
			[]check{expect("out", 0, dax2[5000:8000]), size("out", 3000)}},
		{"dax to new file, length from the device", []string{"-i", "dax2", "-o", "out", "-k", "5000"}, nil,
			"daxio: copied 60536 bytes to device \"out\"\n", nil,
			[]check{expect("out", 0, dax2[5000:]), size("out", daxSize-5000)}},
		{"dax into an existing file, seek", []string{"-i", "dax2", "-o", "src", "-s", "50000", "-l", "100"}, nil,
			"daxio: copied 100 bytes to device \"src\"\n", nil,
			[]check{expect("src", 50000, dax2[:100]), expect("src", 0, src[:50000]), expect("src", 50100, src[50100:])}},
		{"dax to stdout", []string{"-i", "dax2", "-k", "1", "-l", "7"}, nil,
			"daxio: copied 7 bytes to device \"STDOUT\"\n", dax2[1:8], nil},
		{"dax to dax", []string{"-i", "dax2", "-o", "dax", "-k", "4095", "-s", "8193", "-l", "10000"}, nil,
			"daxio: copied 10000 bytes to device \"dax\"\n", nil,
			[]check{expect("dax", 8193, dax2[4095:14095]), untouched("dax", 0, 8193, 0xee), untouched("dax", 18193, daxSize, 0xee)}},
		{"dax to dax, the shorter decides", []string{"-i", "dax2", "-o", "dax", "-k", "60000", "-s", "100"}, nil,
			"daxio: copied 5536 bytes to device \"dax\"\n", nil,
			[]check{expect("dax", 100, dax2[60000:]), untouched("dax", 5636, daxSize, 0xee)}},
		{"zero part", []string{"-z", "-o", "dax2", "-s", "4100", "-l", "2K"}, nil,
			"daxio: copied 2048 bytes to device \"dax2\"\n", nil,
			[]check{untouched("dax2", 4100, 6148, 0), expect("dax2", 0, dax2[:4100]), expect("dax2", 6148, dax2[6148:])}},
		{"zero to the end, input ignored", []string{"-z", "-o", "dax2", "-s", "10000", "-i", "nonexistent"}, nil,
			"daxio: copied 55536 bytes to device \"dax2\"\n", nil,
			[]check{untouched("dax2", 10000, daxSize, 0), expect("dax2", 0, dax2[:10000])}},
		{"zero all", []string{"-z", "-o", "dax2"}, nil,
			"daxio: copied 65536 bytes to device \"dax2\"\n", nil,
			[]check{untouched("dax2", 0, daxSize, 0)}},
		{"seek beyond the device", []string{"-i", "src", "-o", "dax", "-s", "65537"}, nil,
			"daxio: '65537' -- offset beyond device size (65536)\n", nil,
			[]check{untouched("dax", 0, daxSize, 0xee)}},
		{"seek at the end of the device", []string{"-i", "src", "-o", "dax", "-s", "64K"}, nil,
			"daxio: setup_device:415: mmap: Invalid argument\n", nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reset()
			got := runGo(t, e, c.stdin, c.args...)
			wantCode := 0
			if !strings.Contains(c.stderr, "copied") {
				wantCode = 1
			}
			if got.code != wantCode || got.stderr != c.stderr || got.stdout != string(c.stdout) {
				t.Fatalf("status %d, stderr %q, stdout %q; want %d, %q, %q", got.code, got.stderr, got.stdout, wantCode, c.stderr, c.stdout)
			}
			for _, ck := range c.checks {
				ck(t)
			}
		})
	}
}

// devZero makes /dev/zero (1:5) a 4 MiB Device DAX with 2 MiB alignment
// through the sysfs fixture, or skips when it is not 1:5 here.
func devZero(t *testing.T) fstest.MapFS {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat("/dev/zero", &st); err != nil || unix.Major(st.Rdev) != 1 || unix.Minor(st.Rdev) != 5 {
		t.Skipf("/dev/zero is not 1:5 here (%v)", err)
	}
	return sysfstest.Load(t, "testdata/sysfs/devdax.txtar")
}

// TestFixtureDeviceDAX maps a real character device (/dev/zero) that a
// sysfs fixture presents as a Device DAX: detection, size, alignment of
// the skip, bad blocks, and both directions of the copy.
func TestFixtureDeviceDAX(t *testing.T) {
	root := devZero(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	in := filepath.Join(dir, "in")
	const devSize = 4 << 20
	writeFile(t, in, pattern(64<<10, 1))
	e := env{sysfs: root}
	cases := []struct {
		name    string
		args    []string
		code    int
		stderr  string
		outSize int // of out, which starts as 5 MiB of 0xff; the zeros read from the device come first
		zeros   int
	}{
		{"dax to file, length from the device", []string{"-i", "/dev/zero", "-o", out}, 0,
			"daxio: copied 4194304 bytes to device \"" + out + "\"\n", 5 << 20, devSize},
		// A shared mapping of /dev/zero is a new shmem object as long as
		// the mapping: a mapping of it from an offset faults on every
		// access. So the copies here keep their skip and seek below the
		// 2 MiB alignment, where the device is mapped from its start;
		// TestCopiesAssumeDAX maps from aligned offsets.
		{"dax to file, skip", []string{"-i", "/dev/zero", "-o", out, "-k", "100"}, 0,
			"daxio: copied 4194204 bytes to device \"" + out + "\"\n", 5 << 20, 4194204},
		{"dax to file, skip seek len", []string{"-i", "/dev/zero", "-o", out, "-k", "1048579", "-s", "0", "-l", "1000"}, 0,
			"daxio: copied 1000 bytes to device \"" + out + "\"\n", 5 << 20, 1000},
		{"skip at the end", []string{"-i", "/dev/zero", "-o", out, "-k", "4M"}, 1,
			"daxio: setup_device:415: mmap: Invalid argument\n", 5 << 20, 0},
		{"skip beyond the end", []string{"-i", "/dev/zero", "-o", out, "-k", "4194305"}, 1,
			"daxio: '4194305' -- offset beyond device size (4194304)\n", 5 << 20, 0},
		{"file to dax, length from the device", []string{"-i", in, "-o", "/dev/zero", "-s", "1M"}, 0,
			"daxio: requested size 3145728 larger than source\ndaxio: copied 65536 bytes to device \"/dev/zero\"\n", 5 << 20, 0},
		{"file to dax, len", []string{"-i", in, "-o", "/dev/zero", "-l", "100", "-k", "7"}, 0,
			"daxio: copied 100 bytes to device \"/dev/zero\"\n", 5 << 20, 0},
		{"dax to dax", []string{"-i", "/dev/zero", "-o", "/dev/zero", "-k", "100", "-s", "1M"}, 0,
			"daxio: copied 3145728 bytes to device \"/dev/zero\"\n", 5 << 20, 0},
		{"zero", []string{"-z", "-o", "/dev/zero", "-s", "5"}, 0,
			"daxio: copied 4194299 bytes to device \"/dev/zero\"\n", 5 << 20, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			writeFile(t, out, bytes.Repeat([]byte{0xff}, 5<<20))
			got := runGo(t, e, nil, c.args...)
			if got.code != c.code || got.stderr != c.stderr {
				t.Fatalf("status %d, stderr %q; want %d, %q", got.code, got.stderr, c.code, c.stderr)
			}
			b := readFile(t, out)
			if len(b) != c.outSize {
				t.Fatalf("out has %d bytes, want %d", len(b), c.outSize)
			}
			n := len(b) - len(bytes.TrimLeft(b, "\x00"))
			if n != c.zeros || len(bytes.TrimLeft(b[n:], "\xff")) != 0 {
				t.Fatalf("out starts with %d zero bytes, want %d, then 0xff only", n, c.zeros)
			}
		})
	}
}

// TestFixtureNotDAX: without the fixture's dax entries, the same
// character device is refused as C refuses a non-DAX pair.
func TestFixtureNotDAX(t *testing.T) {
	root := devZero(t)
	delete(root, "dev/char/1:5/subsystem")
	out := filepath.Join(t.TempDir(), "out")
	got := runGo(t, env{sysfs: root}, nil, "-i", "/dev/zero", "-o", out)
	if got.code != 1 || got.stderr != "daxio: neither input nor output is device dax\n" {
		t.Fatalf("%+v", got)
	}
	// A dax character device whose nd dax device cannot be found.
	root = devZero(t)
	delete(root, "bus/nd/devices/dax0.1/dax0.0/dev")
	got = runGo(t, env{sysfs: root}, nil, "-z", "-o", "/dev/zero")
	if got.code != 1 || got.stderr != "daxio: cannot determine device alignment for \"/dev/zero\"\n" {
		t.Fatalf("%+v", got)
	}
}

// TestFixtureBadBlocks: an output Device DAX with bad blocks is refused
// unless -b no, since gopmdk cannot clear them; an input one is read.
func TestFixtureBadBlocks(t *testing.T) {
	root := devZero(t)
	// Region sectors 4096+8: inside dax0.1, which starts 2 MiB (sector 4096) into region0.
	if err := sysfstest.Set(root, "devices/ndbus0/region0/badblocks", []byte("4100 8\n")); err != nil {
		t.Fatal(err)
	}
	e := env{sysfs: root}
	got := runGo(t, e, nil, "-z", "-o", "/dev/zero", "-l", "4K")
	if got.code != 1 || !strings.HasPrefix(got.stderr, "daxio: failed to clear bad blocks on \"/dev/zero\"\n") ||
		!strings.Contains(got.stderr, "1 bad block range(s)") {
		t.Fatalf("%+v", got)
	}
	got = runGo(t, e, nil, "-z", "-o", "/dev/zero", "-l", "4K", "--clear-bad-blocks=no")
	if got.code != 0 || got.stderr != "daxio: copied 4096 bytes to device \"/dev/zero\"\n" {
		t.Fatalf("-b no: %+v", got)
	}
	got = runGo(t, e, nil, "-i", "/dev/zero", "-l", "3")
	if got.code != 0 || got.stdout != "\x00\x00\x00" {
		t.Fatalf("input with bad blocks: %+v", got)
	}
	// Outside the dax device: nothing to clear.
	if err := sysfstest.Set(root, "devices/ndbus0/region0/badblocks", []byte("8 8\n")); err != nil {
		t.Fatal(err)
	}
	got = runGo(t, e, nil, "-z", "-o", "/dev/zero", "-l", "4K")
	if got.code != 0 {
		t.Fatalf("bad blocks outside the device: %+v", got)
	}
}

// mainEnv makes the test binary run daxio's main instead of the tests, so
// that a test can run the command as a process: real stdin and stdout,
// exit status, and the GOPMDK_DAXIO_ASSUME_DAX hook read from the
// environment.
const mainEnv = "GOPMDK_DAXIO_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		main()
	}
	os.Exit(m.Run())
}

// TestProcess runs daxio as a process: stdin through a pipe into an
// assumed-DAX file, then that file to stdout, then an argument error.
func TestProcess(t *testing.T) {
	dir := t.TempDir()
	dax := filepath.Join(dir, "dax")
	writeFile(t, dax, make([]byte, 8192))
	daxio := func(stdin []byte, args ...string) result {
		t.Helper()
		var out, errb bytes.Buffer
		cmd := exec.Command(os.Args[0], args...)
		cmd.Args[0] = "daxio"
		cmd.Env = append(os.Environ(), mainEnv+"=1", assumeDAXEnv+"="+filepath.Join(dir, "other")+string(os.PathListSeparator)+dax)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(stdin), &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := errors.AsType[*exec.ExitError](err); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return result{code, out.String(), errb.String()}
	}
	in := pattern(5000, 9)
	got := daxio(in, "-o", dax, "-s", "100")
	if want := (result{0, "", "daxio: requested size 8092 larger than source\ndaxio: copied 5000 bytes to device \"" + dax + "\"\n"}); got != want {
		t.Fatalf("stdin to dax: %+v, want %+v", got, want)
	}
	got = daxio(nil, "--input", dax, "--skip=100", "-l5000")
	if want := (result{0, string(in), "daxio: copied 5000 bytes to device \"STDOUT\"\n"}); got != want {
		t.Fatalf("dax to stdout: status %d, stderr %q, stdout equal: %v", got.code, got.stderr, got.stdout == want.stdout)
	}
	got = daxio(nil, "-q")
	if want := (result{1, "", "daxio: invalid option -- 'q'\n" + usageText()}); got != want {
		t.Fatalf("bad option: %+v, want %+v", got, want)
	}
	// A file not in the hook's list is a regular file.
	plain := filepath.Join(dir, "plain")
	writeFile(t, plain, make([]byte, 8192))
	got = daxio(nil, "-i", plain)
	if want := (result{1, "", "daxio: neither input nor output is device dax\n"}); got != want {
		t.Fatalf("file outside the hook's list: %+v, want %+v", got, want)
	}
}
