package rpma_test

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"slices"
	"syscall"
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

// A socket copy's transport: plain TCP, TLS 1.3 (crypto/tls as it
// is: a system call per record of 16 KiB), or TLS 1.3 over rpma's
// socket batching (one system call per 64 KiB write, reads of 256 KiB).
const (
	plainTCP = iota
	plainTLS
	batchedTLS
)

// socketPair returns the two ends of a loopback TCP connection with the
// transport mode over it.
func socketPair(b *testing.B, mode int) (w io.Writer, r io.Reader) {
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
	if mode == plainTCP {
		return wc, rc
	}
	var begin func()
	var end func() error
	if mode == batchedTLS {
		wc, begin, end = rpma.BatchConn(wc)
		rc, _, _ = rpma.BatchConn(rc)
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
	if mode == batchedTLS {
		return batchWriter{tw, begin, end}, tr
	}
	return tw, tr
}

// batchWriter makes each Write one batch of its socket.
type batchWriter struct {
	w     io.Writer
	begin func()
	end   func() error
}

func (w batchWriter) Write(p []byte) (int, error) {
	w.begin()
	n, err := w.w.Write(p)
	if e := w.end(); err == nil {
		err = e
	}
	return n, err
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
// the loopback limit, measured in the same run: a plain TCP socket copy,
// a TLS socket copy with crypto/tls as it is, and one over rpma's socket
// batching (the rpma stream runs over TLS and that batching). The rounds
// alternate; the reported figures are medians: MB/s, the CPU time of the
// process per byte moved (both sides are in it; steadier than MB/s on a
// shared machine), the ratios rpma/copy of MB/s (>1 = rpma faster), and
// the ratios of the TLS copies to the TCP copy: what TLS alone costs.
func BenchmarkStream(b *testing.B) {
	const total, rounds = 64 << 20, 5
	c, rmr, lmr := benchPair(b, 8<<20, &rpma.ConnConfig{SQSize: 64, CQSize: 64})
	type run struct {
		name string
		f    func()
		mbs  []float64
		cpu  []float64
	}
	runs := []*run{{name: "rpma", f: func() { streamRPMA(b, c, rmr, lmr, total) }}}
	for _, m := range []struct {
		name string
		mode int
	}{{"tcp", plainTCP}, {"tls", plainTLS}, {"tlsbatch", batchedTLS}} {
		w, r := socketPair(b, m.mode)
		runs = append(runs, &run{name: m.name, f: func() { streamSocket(b, w, r, total) }})
	}
	b.SetBytes(total)
	for b.Loop() {
		for range rounds {
			for _, r := range runs {
				t0, c0 := time.Now(), cpuTime()
				r.f()
				r.mbs = append(r.mbs, float64(total)/time.Since(t0).Seconds()/1e6)
				r.cpu = append(r.cpu, float64(cpuTime()-c0)/float64(total))
			}
		}
	}
	med := func(s []float64) float64 { slices.Sort(s); return s[len(s)/2] }
	for _, r := range runs {
		b.ReportMetric(med(r.mbs), r.name+"-MB/s")
		b.ReportMetric(med(r.cpu), r.name+"-cpu-ns/B")
	}
	rp, tcp := med(runs[0].mbs), med(runs[1].mbs)
	for _, r := range runs[1:] {
		b.ReportMetric(rp/med(r.mbs), "rpma/"+r.name)
	}
	// How much of the gap to TCP is TLS's alone.
	for _, r := range runs[2:] {
		b.ReportMetric(med(r.mbs)/tcp, r.name+"/tcp")
	}
}

// cpuTime is the CPU time this process has used (user and system), 0
// where getrusage is missing.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
