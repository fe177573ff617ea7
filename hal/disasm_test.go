//go:build amd64 && gc && !purego

package hal

import (
	"bytes"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"golang.org/x/arch/x86/x86asm"
)

// TestKernelsDisassemble reads the kernels' machine code from this test
// binary's own ELF symbol table and checks that each contains the
// instructions it promises, so a build that silently fell back to generic
// code (or lost an instruction) cannot pass.
func TestKernelsDisassemble(t *testing.T) {
	code := kernelCode(t)
	for _, tc := range []struct {
		fn   string
		want []string
	}{
		{"flushCLWB", []string{"CLWB"}},
		{"flushCLFLUSHOPT", []string{"CLFLUSHOPT"}},
		{"flushCLFLUSH", []string{"CLFLUSH"}},
		{"sfence", []string{"SFENCE"}},
		{"ntCopyFwdSSE2", []string{"MOVDQU", "MOVNTDQ"}},
		{"ntCopyBwdSSE2", []string{"MOVDQU", "MOVNTDQ"}},
		{"ntSetSSE2", []string{"MOVNTDQ"}},
		{"ntCopyFwdAVX", []string{"VMOVDQU", "VMOVNTDQ", "VZEROUPPER"}},
		{"ntCopyBwdAVX", []string{"VMOVDQU", "VMOVNTDQ", "VZEROUPPER"}},
		{"ntSetAVX", []string{"VBROADCASTSD", "VMOVNTDQ", "VZEROUPPER"}},
		{"ntCopyFwdAVX512", []string{"VMOVDQU64", "VMOVNTDQ", "VZEROUPPER"}},
		{"ntCopyBwdAVX512", []string{"VMOVDQU64", "VMOVNTDQ", "VZEROUPPER"}},
		{"ntSetAVX512", []string{"VPBROADCASTQ", "VMOVNTDQ", "VZEROUPPER"}},
		{"tCopyFwdAVX", []string{"VMOVDQU", "VZEROUPPER"}},
		{"tCopyFwdAVX512", []string{"VMOVDQU64", "VZEROUPPER"}},
	} {
		t.Run(tc.fn, func(t *testing.T) {
			b, ok := code[tc.fn]
			if !ok {
				t.Fatalf("no symbol for %s in the test binary", tc.fn)
			}
			ops, widths := disassemble(t, b)
			for _, w := range tc.want {
				if !slices.Contains(ops, w) {
					t.Errorf("%s lacks %s; has %v", tc.fn, w, ops)
				}
			}
			if strings.HasPrefix(tc.fn, "tCopy") && slices.Contains(ops, "VMOVNTDQ") {
				t.Errorf("%s, a temporal copy, has non-temporal stores: %v", tc.fn, ops)
			}
			// The stored register width must match the name: a 64-byte
			// kernel storing 32 bytes would still be correct, only slow.
			var want int
			switch {
			case strings.HasSuffix(tc.fn, "AVX512"):
				want = 512
			case strings.HasSuffix(tc.fn, "AVX"):
				want = 256
			case strings.HasSuffix(tc.fn, "SSE2"):
				want = 128
			}
			if want != 0 && !slices.Equal(widths, []int{want}) {
				t.Errorf("%s stores from %v-bit registers, want only %d-bit", tc.fn, widths, want)
			}
			t.Logf("%s: %d bytes, %v", tc.fn, len(b), ops)
		})
	}
}

// kernels are the assembly functions of hal, by name.
var kernels = map[string]any{
	"flushCLWB": flushCLWB, "flushCLFLUSHOPT": flushCLFLUSHOPT, "flushCLFLUSH": flushCLFLUSH,
	"sfence":        sfence,
	"ntCopyFwdSSE2": ntCopyFwdSSE2, "ntCopyBwdSSE2": ntCopyBwdSSE2, "ntSetSSE2": ntSetSSE2,
	"ntCopyFwdAVX": ntCopyFwdAVX, "ntCopyBwdAVX": ntCopyBwdAVX, "ntSetAVX": ntSetAVX,
	"ntCopyFwdAVX512": ntCopyFwdAVX512, "ntCopyBwdAVX512": ntCopyBwdAVX512, "ntSetAVX512": ntSetAVX512,
	"tCopyFwdAVX": tCopyFwdAVX, "tCopyFwdAVX512": tCopyFwdAVX512,
}

// kernelCode maps each assembly function of hal to its machine code, read
// from this process's memory. A func value of an assembly function points
// at a linker-made ABI wrapper that calls the assembly body; the body's end
// is where the runtime's function table starts the next function.
func kernelCode(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for name, fn := range kernels {
		out[name] = asmCode(t, name, fn)
	}
	return out
}

// asmCode returns the machine code of hal's assembly function name, whose
// func value is fn.
func asmCode(t *testing.T, name string, fn any) []byte {
	t.Helper()
	mem, err := os.Open("/proc/self/mem")
	if err != nil {
		t.Skipf("cannot read own code: %v", err)
	}
	defer mem.Close()
	read := func(pc uintptr, n int) []byte {
		b := make([]byte, n)
		if _, err := mem.ReadAt(b, int64(pc)); err != nil {
			t.Fatalf("read code at %#x: %v", pc, err)
		}
		return b
	}
	wrapper := reflect.ValueOf(fn).Pointer()
	body := callTarget(t, wrapper, read(wrapper, funcLen(wrapper)))
	f := runtime.FuncForPC(body)
	if f == nil || f.Entry() != body || !strings.HasSuffix(f.Name(), "hal."+name) {
		t.Fatalf("%s: wrapper at %#x calls %#x, which is not hal.%s", name, wrapper, body, name)
	}
	return read(body, funcLen(body))
}

// funcLen returns the length in bytes of the function starting at entry.
func funcLen(entry uintptr) int {
	n := 1
	for f := runtime.FuncForPC(entry + uintptr(n)); f != nil && f.Entry() == entry && n < 1<<16; n++ {
		f = runtime.FuncForPC(entry + uintptr(n+1))
	}
	return n
}

// callTarget returns the destination of the first direct CALL or JMP in
// the wrapper code at pc.
func callTarget(t *testing.T, pc uintptr, code []byte) uintptr {
	t.Helper()
	for off := 0; off < len(code); {
		inst, err := x86asm.Decode(code[off:], 64)
		if err != nil {
			break
		}
		off += inst.Len
		if rel, ok := inst.Args[0].(x86asm.Rel); ok && (inst.Op == x86asm.CALL || inst.Op == x86asm.JMP) {
			return pc + uintptr(int64(off)+int64(rel))
		}
	}
	t.Fatalf("no CALL in the wrapper at %#x: % x", pc, code)
	return 0
}

// disassemble returns the mnemonics in code and the widths in bits of the
// vector registers its vector stores (non-temporal, or unaligned moves to
// memory) write from.
func disassemble(t *testing.T, code []byte) (ops []string, storeWidths []int) {
	t.Helper()
	for pc := 0; pc < len(code); {
		inst, err := x86asm.Decode(code[pc:], 64)
		if err != nil {
			// Padding after RET may not decode; everything before must.
			if slices.Contains(ops, "RET") {
				break
			}
			t.Fatalf("decode at +%#x: %v (% x)", pc, err, code[pc:min(pc+8, len(code))])
		}
		op := cacheOp(code[pc:pc+inst.Len], inst.Op.String())
		ops = append(ops, op)
		_, toMem := inst.Args[0].(x86asm.Mem)
		if op == "MOVNTDQ" || op == "VMOVNTDQ" || (op == "VMOVDQU" || op == "VMOVDQU64") && toMem {
			for _, a := range inst.Args {
				if r, ok := a.(x86asm.Reg); ok {
					storeWidths = append(storeWidths, regWidth(r))
				}
			}
		}
		pc += inst.Len
	}
	slices.Sort(ops)
	return slices.Compact(ops), slices.Compact(storeWidths)
}

// cacheOp names the cache-line write-back instructions, which x86asm
// (v0.33) does not know: it decodes CLWB (66 0F AE /6) as XSAVEOPT and
// CLFLUSHOPT (66 0F AE /7) as CLFLUSH with an operand-size prefix.
func cacheOp(raw []byte, op string) string {
	i := bytes.Index(raw, []byte{0x0f, 0xae})
	if i < 0 || i+2 >= len(raw) {
		return op
	}
	modrm := raw[i+2]
	if modrm>>6 == 3 { // register forms are fences, not flushes
		return op
	}
	opsize := bytes.IndexByte(raw[:i], 0x66) >= 0
	switch reg := modrm >> 3 & 7; {
	case reg == 6 && opsize:
		return "CLWB"
	case reg == 7 && opsize:
		return "CLFLUSHOPT"
	case reg == 7:
		return "CLFLUSH"
	}
	return op
}

func regWidth(r x86asm.Reg) int {
	switch {
	case r >= x86asm.X0 && r <= x86asm.X31:
		return 128
	case r >= x86asm.Y0 && r <= x86asm.Y31:
		return 256
	case r >= x86asm.Z0 && r <= x86asm.Z31:
		return 512
	}
	return 0
}

// TestDispatchReachesAssembly follows the direct calls of the amd64
// dispatch code, so a build whose Go side quietly went back to the generic
// kernels fails even though the assembly is still linked in.
func TestDispatchReachesAssembly(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   any
		want []string
	}{
		{"flushRange", flushRange, []string{"flushCLWB", "flushCLFLUSHOPT", "flushCLFLUSH", "msyncRange"}},
		{"Kernels.Fence", (*Kernels).Fence, []string{"sfence"}},
		{"memmove", memmove, []string{"ntCopyFwd", "ntCopyBwd"}},
		{"memset", memset, []string{"ntSet"}},
		{"ntCopyFwd", ntCopyFwd, []string{"ntCopyFwdSSE2", "ntCopyFwdAVX", "ntCopyFwdAVX512"}},
		{"ntCopyBwd", ntCopyBwd, []string{"ntCopyBwdSSE2", "ntCopyBwdAVX", "ntCopyBwdAVX512"}},
		{"ntSet", ntSet, []string{"ntSetSSE2", "ntSetAVX", "ntSetAVX512"}},
		{"tcopy", tcopy, []string{"tCopyFwdAVX", "tCopyFwdAVX512"}},
	} {
		entry := reflect.ValueOf(tc.fn).Pointer()
		got := callees(t, entry)
		// One level deeper, so that -gcflags=-l (no inlining: Kernels.Fence
		// then calls fence, which calls sfence) passes too.
		for _, pc := range calleePCs(t, entry) {
			got = append(got, callees(t, pc)...)
		}
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("%s does not call %s; it calls %v", tc.name, w, got)
			}
		}
	}
}

// callees returns the hal functions that the Go function at entry calls
// directly, without the package prefix.
func callees(t *testing.T, entry uintptr) []string {
	t.Helper()
	const pkg = "github.com/gopmdk/pmdk/hal."
	var out []string
	for _, pc := range calleePCs(t, entry) {
		if name, ok := strings.CutPrefix(runtime.FuncForPC(pc).Name(), pkg); ok {
			out = append(out, name)
		}
	}
	return out
}

// calleePCs returns the entries of the functions that the function at
// entry calls directly.
func calleePCs(t *testing.T, entry uintptr) []uintptr {
	t.Helper()
	mem, err := os.Open("/proc/self/mem")
	if err != nil {
		t.Skipf("cannot read own code: %v", err)
	}
	defer mem.Close()
	code := make([]byte, funcLen(entry))
	if _, err := mem.ReadAt(code, int64(entry)); err != nil {
		t.Fatal(err)
	}
	var out []uintptr
	for off := 0; off < len(code); {
		inst, err := x86asm.Decode(code[off:], 64)
		if err != nil {
			off++ // data or padding between blocks
			continue
		}
		off += inst.Len
		if rel, ok := inst.Args[0].(x86asm.Rel); ok && inst.Op == x86asm.CALL {
			if f := runtime.FuncForPC(entry + uintptr(int64(off)+int64(rel))); f != nil {
				out = append(out, f.Entry())
			}
		}
	}
	return out
}
