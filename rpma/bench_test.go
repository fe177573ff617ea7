package rpma_test

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/rpma"
)

// benchPair connects two PSK peers; the server's region is a mapped file
// of size bytes (under core/pmemtest's directory) with every usage, and
// its peer configuration declares direct write to pmem.
func benchPair(b *testing.B, size int, ccfg *rpma.ConnConfig) (c *rpma.Conn, rmr *rpma.RemoteMR, lmr *rpma.MR) {
	m, err := core.MapFile(pmemtest.Path(b, "region"), int64(size), core.FileCreate, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	srv, cli := newPeer(b, testPSK), newPeer(b, testPSK)
	smr, err := srv.RegisterMap(m, 0, size, rpma.UsageWriteDst|rpma.UsageReadSrc|rpma.UsageFlushPersistent|rpma.UsageFlushVisibility)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { smr.Deregister() })
	_, c = pair(b, srv, cli, nil, ccfg, smr.Descriptor(), nil)
	c.ApplyRemotePeerConfig(&rpma.PeerConfig{DirectWriteToPmem: true})
	lmr = register(b, cli, make([]byte, size), rpma.UsageWriteSrc|rpma.UsageReadDst)
	return c, remote(b, c.PrivateData()), lmr
}

// BenchmarkWriteFlush measures the latency of a write followed by a
// persistent flush, waited for: median and 99th percentile per size.
func BenchmarkWriteFlush(b *testing.B) {
	for _, n := range []int{64, 4 << 10, 64 << 10} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			c, rmr, lmr := benchPair(b, 1<<20, nil)
			var lat []time.Duration
			b.SetBytes(int64(n))
			for b.Loop() {
				t0 := time.Now()
				if err := c.Write(rmr, 0, lmr, 0, n, rpma.CompletionOnError, nil); err != nil {
					b.Fatal(err)
				}
				if err := c.Flush(rmr, 0, n, rpma.FlushPersistent, rpma.CompletionAlways, nil); err != nil {
					b.Fatal(err)
				}
				if wc := next(b, c.CQ()); wc.Status != rpma.StatusSuccess {
					b.Fatal(wc.Status)
				}
				lat = append(lat, time.Since(t0))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
		})
	}
}

const chunk = 64 << 10

// streamRPMA writes total bytes in 64 KiB writes (completions on error
// only, up to 64 outstanding) and ends with a persistent flush.
func streamRPMA(b *testing.B, c *rpma.Conn, rmr *rpma.RemoteMR, lmr *rpma.MR, total int) {
	size := lmr.Size()
	for off := 0; off < total; off += chunk {
		if err := c.Write(rmr, off%size, lmr, off%size, chunk, rpma.CompletionOnError, nil); err != nil {
			b.Fatal(err)
		}
	}
	if err := c.Flush(rmr, 0, size, rpma.FlushPersistent, rpma.CompletionAlways, nil); err != nil {
		b.Fatal(err)
	}
	if wc := next(b, c.CQ()); wc.Status != rpma.StatusSuccess {
		b.Fatal(wc.Status)
	}
}

// socketPair returns the two ends of a loopback TCP connection, TLS 1.3
// over it if tlsToo.
func socketPair(b *testing.B, tlsToo bool) (w io.Writer, r io.Reader) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	ch := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		ch <- c
	}()
	wc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	rc := <-ch
	b.Cleanup(func() { wc.Close(); rc.Close() })
	if !tlsToo {
		return wc, rc
	}
	// The configurations of PSK peers, as the rpma stream uses.
	scfg, ccfg := rpma.PSKTLSConfigs(b)
	tw := tls.Client(wc, ccfg)
	tr := tls.Server(rc, scfg)
	errc := make(chan error, 1)
	go func() { errc <- tr.Handshake() }()
	if err := tw.Handshake(); err != nil {
		b.Fatal(err)
	}
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	return tw, tr
}

// streamSocket copies total bytes through w to a reader goroutine in 64
// KiB writes: the loopback limit.
func streamSocket(b *testing.B, w io.Writer, r io.Reader, total int) {
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, chunk)
		var err error
		for left := total; left > 0 && err == nil; {
			var n int
			n, err = r.Read(buf[:min(left, chunk)])
			left -= n
		}
		done <- err
	}()
	src := make([]byte, chunk)
	for off := 0; off < total; off += chunk {
		if _, err := w.Write(src); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkStream is the streaming throughput of 64 KiB writes against
// the loopback limit, measured in the same run: a plain TCP socket copy
// and a TLS socket copy (the rpma stream runs over TLS). The rounds
// alternate; the reported figures are medians, the ratios
// rpma/socket (>1 = rpma faster).
func BenchmarkStream(b *testing.B) {
	const total, rounds = 64 << 20, 5
	c, rmr, lmr := benchPair(b, 8<<20, &rpma.ConnConfig{SQSize: 64, CQSize: 64})
	pw, pr := socketPair(b, false)
	tw, tr := socketPair(b, true)
	var rp, plain, tlsRate []float64
	rate := func(f func()) float64 {
		t0 := time.Now()
		f()
		return float64(total) / time.Since(t0).Seconds() / 1e6
	}
	b.SetBytes(total)
	for b.Loop() {
		for range rounds {
			plain = append(plain, rate(func() { streamSocket(b, pw, pr, total) }))
			tlsRate = append(tlsRate, rate(func() { streamSocket(b, tw, tr, total) }))
			rp = append(rp, rate(func() { streamRPMA(b, c, rmr, lmr, total) }))
		}
	}
	med := func(s []float64) float64 { slices.Sort(s); return s[len(s)/2] }
	mr, mp, mt := med(rp), med(plain), med(tlsRate)
	b.ReportMetric(mr, "rpma-MB/s")
	b.ReportMetric(mp, "tcp-MB/s")
	b.ReportMetric(mt, "tls-MB/s")
	b.ReportMetric(mr/mp, "rpma/tcp")
	b.ReportMetric(mr/mt, "rpma/tls")
}
