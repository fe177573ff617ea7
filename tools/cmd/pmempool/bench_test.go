package main

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/gopmdk/pmdk/blk"
	"github.com/gopmdk/pmdk/core/pmemtest"
)

// TestMain lets the test binary act as our pmempool command, so that the
// benchmark runs both tools as processes, start-up included on both sides.
func TestMain(m *testing.M) {
	if os.Getenv("GOPMDK_RUN_PMEMPOOL") == "1" {
		os.Args = append([]string{"pmempool"}, os.Args[1:]...)
		main()
	}
	os.Exit(m.Run())
}

// BenchmarkCheckVsC runs `pmempool check` on a 512 MiB blk pool of 512-byte blocks (a million map entries) with its
// BTT laid out, ours and C's alternately, and reports the time per check
// of each and the ratio go/c (below 1: ours is faster).
func BenchmarkCheckVsC(b *testing.B) {
	tool, err := exec.LookPath("pmempool")
	if err != nil {
		b.Skip("C PMDK's pmempool is not installed: no peer to compare with")
	}
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	p := pmemtest.Path(b, "bench.blk")
	pl, err := blk.Create(p, 512<<20, 0o644, &blk.Options{BlockSize: 512})
	if err != nil {
		b.Fatal(err)
	}
	if err := pl.WriteBlock(make([]byte, 512), 0); err != nil {
		b.Fatal(err)
	}
	pl.Close()
	st, _ := os.Stat(p)
	var goT, cT time.Duration
	runOne := func(name string, env []string) time.Duration {
		cmd := exec.Command(name, "check", p)
		cmd.Env = append(os.Environ(), env...)
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%s: %v\n%s", name, err, out)
		}
		return time.Since(start)
	}
	b.SetBytes(st.Size())
	for b.Loop() {
		goT += runOne(self, []string{"GOPMDK_RUN_PMEMPOOL=1"})
		cT += runOne(tool, nil)
	}
	n := float64(b.N)
	b.ReportMetric(float64(goT.Nanoseconds())/n, "go-ns/check")
	b.ReportMetric(float64(cT.Nanoseconds())/n, "c-ns/check")
	b.ReportMetric(float64(goT)/float64(cT), "go/c")
}
