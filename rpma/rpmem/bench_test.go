package rpmem_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/core/pool"
)

// BenchmarkReplicatedPersist: the latency of a persisted store of 64 B
// and 4 KiB into a pool with a remote replica (rpmemd in this process,
// over loopback TLS) beside the same store into a local-only pool, the
// two alternating in one loop; replicated/local is the ratio of their
// latencies (the cost of the remote replica, > 1).
func BenchmarkReplicatedPersist(b *testing.B) {
	for _, size := range []int{64, 4096} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			node, _ := serveB(b)
			dir := pmemtest.Dir(b)
			lp, err := pool.Create(filepath.Join(dir, "local"), 8<<20, 0o600, pool.Log, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer lp.Close()
			set := pmemtest.Poolset(b, dir, "r.set", "8M {dir}/p0", "REPLICA "+node+" rep.set")
			rp, err := pool.Create(set, 0, 0o600, pool.Log, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer rp.Close()
			lm, rm := lp.Map(), rp.Map()
			src := make([]byte, size)
			var tl, tr time.Duration
			var ls, rs []time.Duration
			b.SetBytes(int64(size))
			n := 0
			for b.Loop() {
				o := pool.HeaderSize + (n*size)%(4<<20)
				t0 := time.Now()
				lm.Memmove(lm.Bytes()[o:o+size], src, 0)
				t1 := time.Now()
				rm.Memmove(rm.Bytes()[o:o+size], src, 0)
				t2 := time.Now()
				tl, tr = tl+t1.Sub(t0), tr+t2.Sub(t1)
				ls, rs = append(ls, t1.Sub(t0)), append(rs, t2.Sub(t1))
				n++
			}
			if err := rm.Err(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(tl.Nanoseconds())/float64(n), "local-ns/op")
			b.ReportMetric(float64(tr.Nanoseconds())/float64(n), "replicated-ns/op")
			b.ReportMetric(float64(tr)/float64(tl), "replicated/local")
			lp50, rp50 := median(ls), median(rs)
			b.ReportMetric(float64(lp50.Nanoseconds()), "local-p50-ns")
			b.ReportMetric(float64(rp50.Nanoseconds()), "replicated-p50-ns")
			b.ReportMetric(float64(rp50)/float64(lp50), "p50-replicated/local")
		})
	}
}

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}
