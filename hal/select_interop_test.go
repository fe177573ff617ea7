package hal

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// libpmemProbeC prints the words at the addresses it is given (the static
// dispatch table and threshold of a statically linked libpmem), the
// is_pmem answer of pmem_map_file for "map PATH", and pmem_has_auto_flush.
const libpmemProbeC = `
#include <libpmem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
	const char *v = pmem_check_version(PMEM_MAJOR_VERSION, PMEM_MINOR_VERSION);
	if (v) { fprintf(stderr, "%s\n", v); return 2; }
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "map") == 0) {
			size_t len; int is_pmem;
			void *a = pmem_map_file(argv[i + 1], 0, 0, 0, &len, &is_pmem);
			if (!a) { perror("pmem_map_file"); return 3; }
			printf("is_pmem %d\n", is_pmem);
			pmem_unmap(a, len);
			continue;
		}
		const unsigned long *p = (const unsigned long *)strtoul(argv[i], 0, 0);
		unsigned long n = strtoul(argv[i + 1], 0, 0) / sizeof(*p);
		printf("words");
		for (unsigned long j = 0; j < n; j++)
			printf(" %#lx", p[j]);
		printf("\n");
	}
	printf("auto_flush %d\n", pmem_has_auto_flush());
	return 0;
}
`

// libpmemProbe is the probe program built against the static libpmem, with
// the symbols that decode its output.
type libpmemProbe struct {
	bin       string
	funcs     elf.Symbol        // libpmem's static dispatch table (pmem.c)
	threshold elf.Symbol        // Movnt_threshold (x86_64/init.c)
	names     map[uint64]string // function address -> name
}

// buildLibpmemProbe links the probe non-PIE against libpmem.a, so the
// addresses in its symbol table are those of the running process.
func buildLibpmemProbe(t *testing.T) *libpmemProbe {
	t.Helper()
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("libpmem interop: linux/amd64 only")
	}
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("libpmem interop: gcc not found")
	}
	var lib string
	for _, dir := range []string{"/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/local/lib64", "/usr/local/lib"} {
		if _, err := os.Stat(filepath.Join(dir, "libpmem.a")); err == nil {
			lib = filepath.Join(dir, "libpmem.a")
			break
		}
	}
	if lib == "" {
		t.Skip("libpmem interop: libpmem.a (libpmem-dev) not installed")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "probe.c")
	if err := os.WriteFile(src, []byte(libpmemProbeC), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "probe")
	out, err := exec.Command(gcc, "-no-pie", "-O1", "-o", bin, src, lib, "-lndctl", "-ldaxctl", "-lpthread").CombinedOutput()
	if err != nil {
		// libpmem built without ndctl needs no -lndctl/-ldaxctl.
		out2, err2 := exec.Command(gcc, "-no-pie", "-O1", "-o", bin, src, lib, "-lpthread").CombinedOutput()
		if err2 != nil {
			t.Skipf("libpmem interop: cannot link the probe (libpmem-dev incomplete?):\n%s\n%s", out, out2)
		}
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Skipf("libpmem interop: probe has no symbols (stripped libpmem.a?): %v", err)
	}
	p := &libpmemProbe{bin: bin, names: map[uint64]string{}}
	for _, s := range syms {
		switch {
		case elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Value != 0:
			p.names[s.Value] = s.Name
		case s.Name == "Funcs" && elf.ST_TYPE(s.Info) == elf.STT_OBJECT:
			p.funcs = s
		case s.Name == "Movnt_threshold" && elf.ST_TYPE(s.Info) == elf.STT_OBJECT:
			p.threshold = s
		}
	}
	if p.funcs.Size == 0 || p.threshold.Size != 8 {
		t.Skipf("libpmem interop: libpmem.a lacks the Funcs/Movnt_threshold symbols (not 1.12.x?)")
	}
	return p
}

// libpmemResult is what libpmem chose in one run.
type libpmemResult struct {
	flush     FlushKind
	move      MoveKind
	threshold int
	autoFlush bool
	table     []string // the named functions of the dispatch table
}

// run executes the probe with exactly the given PMEM_* variables set.
func (p *libpmemProbe) run(t *testing.T, env map[string]string) libpmemResult {
	t.Helper()
	cmd := exec.Command(p.bin,
		fmt.Sprintf("%#x", p.funcs.Value), strconv.FormatUint(p.funcs.Size, 10),
		fmt.Sprintf("%#x", p.threshold.Value), "8")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PMEM_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("probe %v: %v\n%s", env, err, out)
	}
	var r libpmemResult
	var words [][]uint64
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		switch {
		case len(f) > 0 && f[0] == "words":
			var w []uint64
			for _, s := range f[1:] {
				v, err := strconv.ParseUint(s, 0, 64)
				if err != nil {
					t.Fatalf("probe output %q: %v", line, err)
				}
				w = append(w, v)
			}
			words = append(words, w)
		case len(f) == 2 && f[0] == "auto_flush":
			r.autoFlush = f[1] == "1"
		}
	}
	if len(words) != 2 || len(words[1]) != 1 {
		t.Fatalf("probe output:\n%s", out)
	}
	r.threshold = int(words[1][0])
	have := map[string]bool{}
	for _, w := range words[0] {
		if name, ok := p.names[w]; ok {
			r.table = append(r.table, name)
			have[name] = true
		}
	}
	switch {
	case have["flush_empty"]:
		r.flush = FlushNone
	case have["flush_clwb"]:
		r.flush = FlushCLWB
	case have["flush_clflushopt"]:
		r.flush = FlushCLFLUSHOPT
	case have["flush_clflush"]:
		r.flush = FlushCLFLUSH
	default:
		t.Fatalf("no flush function in libpmem's table %q", r.table)
	}
	r.move = MoveGeneric
	if !have["memmove_nodrain_generic"] && !have["memmove_nodrain_libc"] {
		// The movnt kernels are named memmove_movnt_<set>_<flush>[_barrier].
		for name := range have {
			for _, m := range []MoveKind{MoveAVX512F, MoveAVX, MoveSSE2} {
				if strings.HasPrefix(name, "memmove_movnt_"+m.String()+"_") && m > r.move {
					r.move = m
				}
			}
		}
	}
	return r
}

// TestInteropSelectionMatchesLibpmem runs C libpmem 1.12.1 on this CPU
// under each PMEM_* setting, reads the kernels it put in its dispatch
// table, and checks that Choose picks the same flush instruction, the same
// non-temporal store set and the same threshold.
func TestInteropSelectionMatchesLibpmem(t *testing.T) {
	if !hasAsm {
		t.Skip("libpmem interop: this build has no assembly kernels; it selects msync+generic by design")
	}
	p := buildLibpmemProbe(t)
	envs := []map[string]string{
		{},
		{EnvNoCLWB: "1"},
		{EnvNoCLWB: "0"},
		{EnvNoCLFLUSHOPT: "1"},
		{EnvNoCLWB: "1", EnvNoCLFLUSHOPT: "1"},
		{EnvNoFlush: "1"},
		{EnvNoFlush: "0"},
		{EnvNoMovnt: "1"},
		{EnvNoMovnt: "1", EnvNoGenericMemcpy: "1"},
		{EnvAVX: "0"},
		{EnvAVX512F: "0"},
		{EnvAVX512F: "1"},
		{EnvAVX: "0", EnvAVX512F: "0"},
		{EnvMovntThreshold: "0"},
		{EnvMovntThreshold: "4096"},
		{EnvMovntThreshold: "-5"},
		{EnvMovntThreshold: "junk"},
		{EnvNoCLWB: "1", EnvAVX512F: "0", EnvMovntThreshold: "1"},
	}
	cpuAuto := AutoFlush(nil)
	for _, e := range envs {
		c := p.run(t, e)
		if c.autoFlush != cpuAuto {
			t.Errorf("env %v: libpmem auto flush %v, AutoFlush %v", e, c.autoFlush, cpuAuto)
		}
		lookup := func(k string) (string, bool) { v, ok := e[k]; return v, ok }
		got := Choose(CPU(), cpuAuto, lookup)
		if got.Flush != c.flush || got.Move != c.move || got.MovntThreshold != c.threshold {
			t.Errorf("env %v: Choose %s+%s threshold %d, libpmem %s+%s threshold %d (table %q)",
				e, got.Flush, got.Move, got.MovntThreshold, c.flush, c.move, c.threshold, c.table)
		}
		t.Logf("env %v: both %s+%s threshold %d", e, c.flush, c.move, c.threshold)
	}
}

// TestInteropDetectMatchesLibpmem maps the same files with pmem_map_file
// and checks that libpmem's is_pmem agrees with our DAX answer.
func TestInteropDetectMatchesLibpmem(t *testing.T) {
	p := buildLibpmemProbe(t)
	dirs := []string{t.TempDir()}
	if d, err := os.MkdirTemp("/dev/shm", "halinterop"); err == nil {
		t.Cleanup(func() { os.RemoveAll(d) })
		dirs = append(dirs, d)
	}
	for _, dir := range dirs {
		name := filepath.Join(dir, "pool")
		if err := os.WriteFile(name, make([]byte, 1<<20), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(p.bin, "map", name)
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "PMEM_") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("probe map %s: %v\n%s", name, err, out)
		}
		isPmem := strings.Contains(string(out), "is_pmem 1")
		f, err := os.OpenFile(name, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		plat, err := DetectFile(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if plat.DAX != isPmem {
			t.Errorf("%s: DetectFile DAX %v, libpmem is_pmem %v", name, plat.DAX, isPmem)
		}
		t.Logf("%s: %s; libpmem is_pmem %v", dir, plat, isPmem)
	}
}
