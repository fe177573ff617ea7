package hal

import (
	"errors"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// env is a fake environment for Choose.
type env map[string]string

func (e env) lookup(k string) (string, bool) { v, ok := e[k]; return v, ok }

var (
	allX86        = Features{CLFLUSH: true, CLFLUSHOPT: true, CLWB: true, SSE2: true, AVX: true, AVX2: true, AVX512F: true, CacheLineSize: 64}
	skylakeClient = Features{CLFLUSH: true, CLFLUSHOPT: true, SSE2: true, AVX: true, AVX2: true, CacheLineSize: 64}
	oldX86        = Features{CLFLUSH: true, SSE2: true, CacheLineSize: 64}
)

func TestChoose(t *testing.T) {
	cases := []struct {
		name  string
		f     Features
		asm   bool
		eADR  bool
		env   env
		flush FlushKind
		move  MoveKind
		thr   int
		why   string // a substring of the reasons
	}{
		{"best", allX86, true, false, nil, FlushCLWB, MoveAVX512F, 256, "clwb: CPU has CLWB"},
		{"no clwb cpu", skylakeClient, true, false, nil, FlushCLFLUSHOPT, MoveAVX, 256, "CPU has no CLWB"},
		{"old cpu", oldX86, true, false, nil, FlushCLFLUSH, MoveSSE2, 256, "neither CLWB nor CLFLUSHOPT"},
		{"no flush insn", Features{SSE2: true}, true, false, nil, FlushMsync, MoveSSE2, 256, "no cache flush instruction"},
		{"no sse2", Features{CLFLUSH: true}, true, false, nil, FlushCLFLUSH, MoveGeneric, 256, "CPU has no SSE2"},

		{"PMEM_NO_CLWB", allX86, true, false, env{EnvNoCLWB: "1"}, FlushCLFLUSHOPT, MoveAVX512F, 256, "PMEM_NO_CLWB=1"},
		{"PMEM_NO_CLWB=0 keeps clwb", allX86, true, false, env{EnvNoCLWB: "0"}, FlushCLWB, MoveAVX512F, 256, "CPU has CLWB"},
		{"PMEM_NO_CLWB=yes is not 1", allX86, true, false, env{EnvNoCLWB: "yes"}, FlushCLWB, MoveAVX512F, 256, ""},
		{"PMEM_NO_CLFLUSHOPT alone", allX86, true, false, env{EnvNoCLFLUSHOPT: "1"}, FlushCLWB, MoveAVX512F, 256, ""},
		{"PMEM_NO_CLFLUSHOPT no clwb cpu", skylakeClient, true, false, env{EnvNoCLFLUSHOPT: "1"}, FlushCLFLUSH, MoveAVX, 256, "PMEM_NO_CLFLUSHOPT=1"},
		{"both off", allX86, true, false, env{EnvNoCLWB: "1", EnvNoCLFLUSHOPT: "1"}, FlushCLFLUSH, MoveAVX512F, 256, "PMEM_NO_CLWB=1, PMEM_NO_CLFLUSHOPT=1"},

		{"PMEM_NO_FLUSH=1", allX86, true, false, env{EnvNoFlush: "1"}, FlushNone, MoveAVX512F, 256, "PMEM_NO_FLUSH=1"},
		{"eADR", allX86, true, true, nil, FlushNone, MoveAVX512F, 256, "eADR"},
		{"eADR PMEM_NO_FLUSH=0", allX86, true, true, env{EnvNoFlush: "0"}, FlushCLWB, MoveAVX512F, 256, "PMEM_NO_FLUSH=0"},
		{"eADR PMEM_NO_FLUSH=2", allX86, true, true, env{EnvNoFlush: "2"}, FlushNone, MoveAVX512F, 256, "eADR"},
		{"PMEM_NO_FLUSH=0 no eADR", allX86, true, false, env{EnvNoFlush: "0"}, FlushCLWB, MoveAVX512F, 256, ""},

		{"PMEM_NO_MOVNT", allX86, true, false, env{EnvNoMovnt: "1"}, FlushCLWB, MoveGeneric, 256, "PMEM_NO_MOVNT=1"},
		{"PMEM_NO_MOVNT=0", allX86, true, false, env{EnvNoMovnt: "0"}, FlushCLWB, MoveAVX512F, 256, ""},
		{"PMEM_AVX512F=0", allX86, true, false, env{EnvAVX512F: "0"}, FlushCLWB, MoveAVX, 256, "PMEM_AVX512F=0"},
		{"PMEM_AVX512F=1", allX86, true, false, env{EnvAVX512F: "1"}, FlushCLWB, MoveAVX512F, 256, ""},
		{"PMEM_AVX=0", allX86, true, false, env{EnvAVX: "0"}, FlushCLWB, MoveAVX512F, 256, "PMEM_AVX=0"},
		{"PMEM_AVX=0 no avx512", skylakeClient, true, false, env{EnvAVX: "0"}, FlushCLFLUSHOPT, MoveSSE2, 256, "PMEM_AVX=0"},
		{"both vector off", allX86, true, false, env{EnvAVX: "0", EnvAVX512F: "0"}, FlushCLWB, MoveSSE2, 256, "PMEM_AVX=0, PMEM_AVX512F=0"},
		{"PMEM_AVX512F=1 no avx512 cpu", skylakeClient, true, false, env{EnvAVX512F: "1"}, FlushCLFLUSHOPT, MoveAVX, 256, ""},
		{"avx512 without avx", Features{CLFLUSH: true, SSE2: true, AVX512F: true}, true, false, nil, FlushCLFLUSH, MoveAVX512F, 256, ""},
		{"PMEM_NO_GENERIC_MEMCPY", allX86, true, false, env{EnvNoMovnt: "1", EnvNoGenericMemcpy: "1"}, FlushCLWB, MoveGeneric, 256, "PMEM_NO_GENERIC_MEMCPY=1"},

		{"threshold 0", allX86, true, false, env{EnvMovntThreshold: "0"}, FlushCLWB, MoveAVX512F, 0, "PMEM_MOVNT_THRESHOLD"},
		{"threshold 1024", allX86, true, false, env{EnvMovntThreshold: "1024"}, FlushCLWB, MoveAVX512F, 1024, ""},
		{"threshold negative", allX86, true, false, env{EnvMovntThreshold: "-5"}, FlushCLWB, MoveAVX512F, 256, "negative, ignored"},
		{"threshold junk is 0", allX86, true, false, env{EnvMovntThreshold: "junk"}, FlushCLWB, MoveAVX512F, 0, ""},
		{"threshold prefix", allX86, true, false, env{EnvMovntThreshold: " 77kb"}, FlushCLWB, MoveAVX512F, 77, ""},
		{"threshold with no movnt", allX86, true, false, env{EnvNoMovnt: "1", EnvMovntThreshold: "9"}, FlushCLWB, MoveGeneric, 9, ""},

		{"no asm", allX86, false, false, nil, FlushMsync, MoveGeneric, 256, "no assembly"},
		{"no asm PMEM_NO_FLUSH", allX86, false, false, env{EnvNoFlush: "1"}, FlushNone, MoveGeneric, 256, ""},
		{"no asm eADR", allX86, false, true, nil, FlushNone, MoveGeneric, 256, "eADR"},
		{"no asm env ignored", allX86, false, false, env{EnvNoCLWB: "1", EnvAVX: "0"}, FlushMsync, MoveGeneric, 256, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := choose(c.f, c.asm, c.eADR, c.env.lookup)
			if got.Flush != c.flush || got.Move != c.move || got.MovntThreshold != c.thr {
				t.Errorf("got %s+%s threshold %d, want %s+%s threshold %d (%s)",
					got.Flush, got.Move, got.MovntThreshold, c.flush, c.move, c.thr, got.Reason())
			}
			if !strings.Contains(got.Reason(), c.why) {
				t.Errorf("reason %q lacks %q", got.Reason(), c.why)
			}
			if len(got.Reasons) < 2 {
				t.Errorf("reasons %q: want one for flush and one for move at least", got.Reasons)
			}
		})
	}
}

// TestChooseNeverUnsupported runs every feature combination under every
// on/off setting of the variables, with and without assembly and eADR, and
// checks that the choice only uses instructions those features provide.
func TestChooseNeverUnsupported(t *testing.T) {
	vars := []string{EnvNoCLWB, EnvNoCLFLUSHOPT, EnvNoFlush, EnvNoMovnt, EnvAVX, EnvAVX512F}
	for fbits := range 1 << 7 {
		f := Features{
			CLFLUSH: fbits&1 != 0, CLFLUSHOPT: fbits&2 != 0, CLWB: fbits&4 != 0, SSE2: fbits&8 != 0,
			AVX: fbits&16 != 0, AVX2: fbits&32 != 0, AVX512F: fbits&64 != 0, CacheLineSize: 64,
		}
		for ebits := range 1 << len(vars) {
			e := env{}
			for i, v := range vars {
				if ebits&(1<<i) != 0 {
					// "1" disables for the PMEM_NO_* ones, "0" for PMEM_AVX*.
					e[v] = map[bool]string{true: "0", false: "1"}[strings.HasPrefix(v, "PMEM_AVX")]
				}
			}
			for _, asm := range []bool{false, true} {
				for _, eADR := range []bool{false, true} {
					c := choose(f, asm, eADR, e.lookup)
					if !flushSupportedOn(c.Flush, f, asm) || !moveSupportedOn(c.Move, f, asm) {
						t.Fatalf("features %+v env %v asm %v eADR %v: chose unsupported %s+%s", f, e, asm, eADR, c.Flush, c.Move)
					}
					if e[EnvNoFlush] == "1" && c.Flush != FlushNone {
						t.Fatalf("PMEM_NO_FLUSH=1 gave %s", c.Flush)
					}
					if e[EnvNoMovnt] == "1" && c.Move != MoveGeneric {
						t.Fatalf("PMEM_NO_MOVNT=1 gave %s", c.Move)
					}
					if e[EnvNoCLWB] == "1" && c.Flush == FlushCLWB || e[EnvNoCLFLUSHOPT] == "1" && c.Flush == FlushCLFLUSHOPT {
						t.Fatalf("env %v gave %s", e, c.Flush)
					}
					if e[EnvAVX512F] == "0" && c.Move == MoveAVX512F || e[EnvAVX] == "0" && c.Move == MoveAVX {
						t.Fatalf("env %v gave %s", e, c.Move)
					}
				}
			}
		}
	}
}

func TestSupportedOn(t *testing.T) {
	none := Features{}
	for _, k := range []FlushKind{FlushNone, FlushMsync} {
		if !flushSupportedOn(k, none, false) {
			t.Errorf("%s must always be supported", k)
		}
	}
	if !moveSupportedOn(MoveGeneric, none, false) {
		t.Error("generic must always be supported")
	}
	for _, k := range []FlushKind{FlushCLFLUSH, FlushCLFLUSHOPT, FlushCLWB} {
		if flushSupportedOn(k, allX86, false) {
			t.Errorf("%s supported without assembly", k)
		}
		if flushSupportedOn(k, none, true) {
			t.Errorf("%s supported without the CPU flag", k)
		}
		if !flushSupportedOn(k, allX86, true) {
			t.Errorf("%s unsupported with flag and assembly", k)
		}
	}
	for _, k := range []MoveKind{MoveSSE2, MoveAVX, MoveAVX512F} {
		if moveSupportedOn(k, allX86, false) || moveSupportedOn(k, none, true) || !moveSupportedOn(k, allX86, true) {
			t.Errorf("%s: wrong support", k)
		}
	}
	if flushSupportedOn(FlushKind(99), allX86, true) || moveSupportedOn(MoveKind(99), allX86, true) {
		t.Error("unknown kinds supported")
	}
}

func TestSelectedIsChooseOfThisProcess(t *testing.T) {
	want := Choose(CPU(), AutoFlush(nil), os.LookupEnv)
	got := SelectedChoice()
	if got.String() != want.String() {
		t.Fatalf("SelectedChoice() = %s, want %s", got, want)
	}
	k := Selected()
	if k.Flush() != want.Flush || k.Move() != want.Move || k.MovntThreshold() != want.MovntThreshold {
		t.Fatalf("Selected() = %s, want %s", k, want)
	}
	if !Supported(k.Flush(), k.Move()) {
		t.Fatalf("selected set %s not supported", k.Name())
	}
	if !hasAsm && (k.Flush() != FlushMsync && k.Flush() != FlushNone || k.Move() != MoveGeneric) {
		t.Fatalf("build without assembly selected %s", k.Name())
	}
	t.Logf("selected %s", got)
}

func TestChoiceKernels(t *testing.T) {
	k, err := Choice{Flush: FlushMsync, Move: MoveGeneric, MovntThreshold: 0}.Kernels()
	if err != nil || k.MovntThreshold() != 0 || k.Name() != "msync+generic" {
		t.Fatalf("got %v, %v", k, err)
	}
	for _, c := range []Choice{{Flush: FlushCLWB}, {Move: MoveAVX512F}, {Flush: FlushKind(42)}} {
		_, err := c.Kernels()
		if Supported(c.Flush, c.Move) != (err == nil) {
			t.Errorf("%s+%s: Supported %v but Kernels err %v", c.Flush, c.Move, Supported(c.Flush, c.Move), err)
		}
		if err != nil && !errors.Is(err, ErrUnsupported) {
			t.Errorf("err %v is not ErrUnsupported", err)
		}
	}
}

func TestNewKernelsMatchesSupported(t *testing.T) {
	for f := FlushNone; f <= FlushMsync; f++ {
		for m := MoveGeneric; m <= MoveAVX512F; m++ {
			k, err := NewKernels(f, m, 0)
			if Supported(f, m) != (err == nil) {
				t.Errorf("%s+%s: Supported %v, NewKernels err %v", f, m, Supported(f, m), err)
			}
			if err == nil && (k.MovntThreshold() != DefaultMovntThreshold || k.Flush() != f || k.Move() != m) {
				t.Errorf("NewKernels(%s, %s, 0) = %s", f, m, k)
			}
		}
	}
}

func TestAtoll(t *testing.T) {
	for in, want := range map[string]int64{
		"": 0, "0": 0, "42": 42, "-42": -42, "+7": 7, "  \t12": 12, "12abc": 12, "abc": 0, "- 1": 0,
		"9223372036854775807": math.MaxInt64, "9223372036854775808": math.MaxInt64, "99999999999999999999999": math.MaxInt64,
		"-9223372036854775808": math.MinInt64, "-9223372036854775809": math.MinInt64, "-99999999999999999999999": math.MinInt64,
	} {
		if got := atoll(in); got != want {
			t.Errorf("atoll(%q) = %d, want %d", in, got, want)
		}
	}
}

var cIntPrefix = regexp.MustCompile(`^[ \t\n\v\f\r]*([+-]?[0-9]+)`)

// FuzzAtoll checks atoll against strconv on the prefix C would convert.
func FuzzAtoll(f *testing.F) {
	for _, s := range []string{"256", "-1", " +12x", "99999999999999999999", "-9223372036854775809", "", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want int64
		if m := cIntPrefix.FindStringSubmatch(s); m != nil {
			v, err := strconv.ParseInt(m[1], 10, 64)
			switch {
			case err == nil:
				want = v
			case strings.HasPrefix(m[1], "-"):
				want = math.MinInt64
			default:
				want = math.MaxInt64
			}
		}
		if got := atoll(s); got != want {
			t.Fatalf("atoll(%q) = %d, want %d", s, got, want)
		}
	})
}
