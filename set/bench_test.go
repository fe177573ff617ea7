package set_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/set"
)

// BenchmarkMemcpyAcrossParts: a 4 KiB Memcpy+persist straddling two parts,
// through a Set (two core Maps, a split copy, one drain) and, the peer,
// through one core.NewPartsMap over the same two files. Ratio: peer ns/op
// over set ns/op (>1: the set is faster). Cache-line granularity is forced
// (PMEM_IS_PMEM_FORCE) so both take the CPU path, not msync.
func BenchmarkMemcpyAcrossParts(b *testing.B) {
	b.Setenv("PMEM_IS_PMEM_FORCE", "1")
	dir := pmemtest.Dir(b)
	var files []*os.File
	for _, name := range []string{"a", "b"} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if err := f.Truncate(mib); err != nil {
			b.Fatal(err)
		}
		files = append(files, f)
	}
	buf := make([]byte, 4096)
	b.Run("set", func(b *testing.B) {
		s := set.New(set.Config{RequiredGranularity: core.GranularityPage})
		defer s.Close()
		if err := s.SetCoalescing(set.CoalescingFull); err != nil {
			b.Fatal(err)
		}
		var pm *set.PartMap
		for _, f := range files {
			src, err := set.FromFile(f)
			if err != nil {
				b.Fatal(err)
			}
			if pm, err = s.Map(src, set.MapConfig{}); err != nil {
				b.Fatal(err)
			}
		}
		dst := pm.Bytes()[mib-2048 : mib+2048]
		b.SetBytes(int64(len(buf)))
		for b.Loop() {
			if err := s.Memcpy(dst, buf, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("core", func(b *testing.B) {
		var parts []core.Part
		for _, f := range files {
			src, err := core.FromFile(f)
			if err != nil {
				b.Fatal(err)
			}
			parts = append(parts, core.Part{Src: src, Length: mib})
		}
		m, err := core.NewPartsMap(parts, &core.Config{RequiredGranularity: core.GranularityPage})
		if err != nil {
			b.Fatal(err)
		}
		defer m.Close()
		dst := m.Bytes()[mib-2048 : mib+2048]
		b.SetBytes(int64(len(buf)))
		for b.Loop() {
			m.Memcpy(dst, buf, 0)
		}
	})
}
