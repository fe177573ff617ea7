package vmmalloc

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/gopmdk/pmdk/vmem"
)

var update = flag.Bool("update", false, "rewrite shim/policy.h from vmem.AllocatorPolicy")

// The shim's constants and tables are vmem's: the committed header is what
// vmem's policy renders to.
func TestPolicyHeader(t *testing.T) {
	want := policyHeader(vmem.AllocatorPolicy())
	if *update {
		if err := os.WriteFile("shim/policy.h", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("shim/policy.h")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("shim/policy.h differs from vmem.AllocatorPolicy: run go test -run TestPolicyHeader -update")
	}
	if MinPoolSize != vmem.MinPoolSize {
		t.Errorf("MinPoolSize %d, vmem's %d", MinPoolSize, vmem.MinPoolSize)
	}
}

// policyHeader renders vmem's allocator policy as the C header the shim
// compiles with (shim/policy.h): the C hot path uses vmem's page size, size
// classes, slab sizes, cache sizes and page-heap thresholds, never numbers
// of its own. TestPolicyHeader checks that the committed header is this.
func policyHeader(p vmem.Policy) []byte {
	var b bytes.Buffer
	b.WriteString("// Code generated from vmem.AllocatorPolicy by vmmalloc's TestPolicyHeader -update; DO NOT EDIT.\n\n")
	b.WriteString("#ifndef VMMALLOC_POLICY_H\n#define VMMALLOC_POLICY_H\n\n#include <stdint.h>\n\n")
	shift := 0
	for 1<<shift < p.PageSize {
		shift++
	}
	n := len(p.Classes) + 1 // class 0 is unused: 0 means "large"
	maxObjs, totalCache := 0, 0
	for _, c := range p.Classes {
		maxObjs = max(maxObjs, c.SlabPages*p.PageSize/c.Size)
		totalCache += c.CacheCap
	}
	for _, d := range []struct {
		name string
		v    int
	}{
		{"VM_PAGE_SHIFT", shift}, {"VM_PAGE_SIZE", p.PageSize}, {"VM_MIN_ALIGN", p.MinAlign},
		{"VM_MAX_SMALL", p.MaxSmall}, {"VM_EXACT_BINS", p.ExactBins}, {"VM_MIN_RELEASE", p.MinRelease},
		{"VM_RETAIN_DIVISOR", p.RetainDivisor}, {"VM_KEEP_EMPTY", p.KeepEmpty}, {"VM_MIN_POOL", p.MinPoolSize},
		{"VM_NCLASS", n}, {"VM_SLAB_WORDS", (maxObjs + 63) / 64}, {"VM_CACHE_TOTAL", totalCache},
	} {
		fmt.Fprintf(&b, "#define %s %d\n", d.name, d.v)
	}
	table := func(typ, name string, vals []int) {
		fmt.Fprintf(&b, "\nstatic const %s %s[%d] = {", typ, name, len(vals))
		for i, v := range vals {
			if i%12 == 0 {
				b.WriteString("\n\t")
			} else {
				b.WriteString(" ")
			}
			fmt.Fprintf(&b, "%d,", v)
		}
		b.WriteString("\n};\n")
	}
	sizes, pages, caps, offs, divs := []int{0}, []int{0}, []int{0}, []int{0}, []int{0}
	off := 0
	for _, c := range p.Classes {
		sizes = append(sizes, c.Size)
		pages = append(pages, c.SlabPages)
		caps = append(caps, c.CacheCap)
		offs = append(offs, off)
		off += c.CacheCap
		divs = append(divs, int(^uint32(0)/uint32(c.Size)+1))
	}
	// Size to class: by 16-byte steps up to 1 KiB, by 128-byte steps above.
	var by16, by128 []int
	c := 1
	for i := 0; i <= 1024/16; i++ {
		for i*16 > sizes[c] {
			c++
		}
		by16 = append(by16, c)
	}
	for i := 0; i <= (p.MaxSmall-1024)/128; i++ {
		for 1024+i*128 > sizes[c] {
			c++
		}
		by128 = append(by128, c)
	}
	table("uint32_t", "vm_class_size", sizes)
	table("uint32_t", "vm_class_pages", pages)
	table("uint32_t", "vm_cache_cap", caps)
	table("uint32_t", "vm_cache_off", offs)
	table("uint32_t", "vm_class_divmul", divs)
	table("uint8_t", "vm_class_by16", by16)
	table("uint8_t", "vm_class_by128", by128)
	b.WriteString("\n#endif\n")
	return b.Bytes()
}
