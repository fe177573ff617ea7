package crashsim_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
	"github.com/gopmdk/pmdk/core/crashsim/examples"
	"golang.org/x/sys/unix"
)

// BenchmarkPersistOverhead persists the same range on a simulated device
// and on anonymous memory through core's CPU persist path, alternating in
// each iteration, and reports the simulator's time as a multiple of it.
func BenchmarkPersistOverhead(b *testing.B) {
	for _, n := range []int{64, 4096} {
		b.Run(byteSize(n), func(b *testing.B) {
			d, err := crashsim.NewDevice(1 << 20)
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			mem, err := unix.Mmap(-1, 0, 1<<20, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
			if err != nil {
				b.Fatal(err)
			}
			defer unix.Munmap(mem)
			cpu := core.NewMemoryMap(mem, core.GranularityCacheLine, core.NewPersister(core.GranularityCacheLine, nil), nil)
			sim := d.Map()
			var tSim, tCPU time.Duration
			b.SetBytes(int64(n))
			i := 0
			for b.Loop() {
				off := (i * 4096) % (1 << 20)
				i++
				sim.Bytes()[off]++
				cpu.Bytes()[off]++
				t0 := time.Now()
				sim.Persist(sim.Bytes()[off : off+n])
				t1 := time.Now()
				cpu.Persist(cpu.Bytes()[off : off+n])
				tSim += t1.Sub(t0)
				tCPU += time.Since(t1)
			}
			b.ReportMetric(float64(tSim)/float64(tCPU), "sim/cpu")
		})
	}
}

// BenchmarkExplore reports how many post-crash images a full exploration
// checks per second: a small structure, and records in a mostly empty
// 16 MiB device (where untouched pages must cost nothing).
func BenchmarkExplore(b *testing.B) {
	sparse := examples.Record(examples.Correct)
	sparse.Size = 16 << 20
	for _, bc := range []struct {
		name string
		w    crashsim.Workload
	}{{"record", examples.Record(examples.Correct)}, {"record-16MiB", sparse}} {
		b.Run(bc.name, func(b *testing.B) {
			images := 0
			for b.Loop() {
				rep, err := crashsim.Run(bc.w, crashsim.Options{})
				if err != nil || len(rep.Failures) > 0 {
					b.Fatal(err, rep.Failures)
				}
				images += rep.Images
			}
			b.ReportMetric(float64(images)/b.Elapsed().Seconds(), "images/s")
		})
	}
}

func byteSize(n int) string {
	if n >= 1024 {
		return fmt.Sprintf("%dKiB", n/1024)
	}
	return fmt.Sprintf("%dB", n)
}
