package main

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gopmdk/pmdk/blk"
	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/log"
	"github.com/gopmdk/pmdk/obj"
	"github.com/gopmdk/pmdk/rpma/rpmem"
	"github.com/gopmdk/pmdk/rpma/rpmem/rpmemtest"
	"github.com/gopmdk/pmdk/tools/pmempool"
)

var testKey = []byte("rpmemd test pre-shared key, 32 b")

// remoteDir makes rpmemd's poolset directory with rep.set, one part of
// size (8M if ""), and returns it with the part's path.
func remoteDir(t *testing.T, size string) (dir, part string) {
	dir = pmemtest.Dir(t)
	pmemtest.Poolset(t, dir, "rep.set", cmp.Or(size, "8M")+" {dir}/rep.part")
	return dir, filepath.Join(dir, "rep.part")
}

// localSet writes a local poolset, one part of size (8M if ""),
// replicated to node, with a local replica too when withLocal; it returns
// the poolset and the parts of the primary and the local replica.
func localSet(t *testing.T, node, size string, withLocal bool) (set, primary, replica string) {
	dir := pmemtest.Dir(t)
	size = cmp.Or(size, "8M")
	lines := []string{size + " {dir}/p0", "REPLICA " + node + " rep.set"}
	if withLocal {
		lines = append(lines, "REPLICA", size+" {dir}/r0")
	}
	return pmemtest.Poolset(t, dir, "local.set", lines...), filepath.Join(dir, "p0"), filepath.Join(dir, "r0")
}

func useKey(t *testing.T, timeout time.Duration) {
	rpmem.SetDefault(&rpmem.Config{PSK: testKey, Timeout: timeout})
	t.Cleanup(func() { rpmem.SetDefault(nil) })
}

// The three pool types on a poolset with a remote and a local replica:
// what was persisted is in the remote file after Close, which equals the
// local replica (both get exactly the persisted ranges) and, for log and
// blk, the primary; the pool reopens with its data. (obj leaves two
// bytes of its heap stored and never persisted: its primary differs
// from any replica there, local or remote.)
func TestPoolTypes(t *testing.T) {
	useKey(t, 10*time.Second)
	for _, typ := range []string{"log", "blk", "obj"} {
		t.Run(typ, func(t *testing.T) {
			size := map[string]string{"blk": "20M"}[typ]
			dir, remote := remoteDir(t, size)
			set, primary, replica := localSet(t, rpmemtest.Serve(t, dir, testKey), size, true)
			for round := 1; round <= 2; round++ { // create, then reopen
				writePool(t, typ, set, round)
				rpmemtest.SameData(t, replica, remote)
				if typ != "obj" {
					rpmemtest.SameData(t, primary, remote)
				}
			}
		})
	}
}

// writePool creates (round 1) or opens the pool of type typ on set, checks
// what earlier rounds wrote and writes this round's data.
func writePool(t *testing.T, typ, set string, round int) {
	t.Helper()
	msg := func(r int) []byte { return []byte(fmt.Sprintf("round %d of %s", r, typ)) }
	switch typ {
	case "log":
		var l *log.Log
		var err error
		if round == 1 {
			l, err = log.Create(set, 0, 0o600, nil)
		} else {
			l, err = log.Open(set, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer mustClose(t, l.Close)
		if b, _ := l.Bytes(); round > 1 && !bytes.HasPrefix(b, msg(1)) {
			t.Fatalf("log holds %q", b)
		}
		for range 50 {
			if err := l.Append(msg(round)); err != nil {
				t.Fatal(err)
			}
		}
	case "blk":
		var p *blk.Pool
		var err error
		if round == 1 {
			p, err = blk.Create(set, 0, 0o600, &blk.Options{BlockSize: 512})
		} else {
			p, err = blk.Open(set, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer mustClose(t, p.Close)
		buf := make([]byte, 512)
		if round > 1 {
			if err := p.ReadBlock(buf, 1); err != nil || !bytes.HasPrefix(buf, msg(1)) {
				t.Fatalf("block 1: %q, %v", buf[:20], err)
			}
		}
		copy(buf, msg(round))
		for i := range int64(20) {
			if err := p.WriteBlock(buf, int64(round)*20+i-19); err != nil {
				t.Fatal(err)
			}
		}
	case "obj":
		var p *obj.Pool
		var err error
		if round == 1 {
			p, err = obj.Create(set, 0, 0o600, &obj.Options{Layout: "rpmem"})
		} else {
			p, err = obj.Open(set, &obj.Options{Layout: "rpmem"})
		}
		if err != nil {
			t.Fatal(err)
		}
		defer mustClose(t, p.Close)
		root, err := p.Root(4096)
		if err != nil {
			t.Fatal(err)
		}
		b := p.Bytes(root)
		if round > 1 && !bytes.HasPrefix(b, msg(1)) {
			t.Fatalf("root holds %q", b[:20])
		}
		p.MemcpyPersist(b[:len(msg(round))], msg(round))
		for range 20 {
			if _, err := p.Alloc(1000, 1, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func mustClose(t *testing.T, close func() error) {
	t.Helper()
	if err := close(); err != nil {
		t.Fatal(err)
	}
}

// daemon is an rpmemd process built from this package.
type daemon struct {
	bin, dir, pskFile, addr string
	cmd                     *exec.Cmd
	stderr                  *bytes.Buffer
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func startDaemon(t *testing.T, dir, addr string) *daemon {
	t.Helper()
	buildOnce.Do(func() {
		d, err := os.MkdirTemp("", "rpmemd-test-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(d, "rpmemd")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	psk := filepath.Join(t.TempDir(), "psk")
	if err := os.WriteFile(psk, append(testKey, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	d := &daemon{bin: binPath, dir: dir, pskFile: psk, addr: addr}
	d.start(t)
	return d
}

func (d *daemon) start(t *testing.T) {
	t.Helper()
	d.stderr = new(bytes.Buffer)
	d.cmd = exec.Command(d.bin, "-listen", d.addr, "-poolset-dir", d.dir, "-psk-file", d.pskFile, "-v")
	pr, err := d.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.cmd.Process.Kill(); d.cmd.Wait() })
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		d.stderr.WriteString(line + "\n")
		if strings.Contains(line, "listening") {
			// addr=127.0.0.1:port: the port it got, kept for restarts.
			if _, a, ok := strings.Cut(line, " addr="); ok {
				d.addr, _, _ = strings.Cut(a, " ")
			}
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
}

// The daemon as a process: a log pool replicated to it.
func TestDaemon(t *testing.T) {
	useKey(t, 10*time.Second)
	dir, remote := remoteDir(t, "")
	d := startDaemon(t, dir, "127.0.0.1:0")
	set, local, _ := localSet(t, d.addr, "", false)
	writePool(t, "log", set, 1)
	rpmemtest.SameData(t, local, remote)
	writePool(t, "log", set, 2)
	rpmemtest.SameData(t, local, remote)
}

// rpmemd killed while a writer appends to a log pool: the writer gets an
// error (no hang: the timeout bounds every wait), the restarted daemon's
// replica lags, pmempool sync rebuilds it equal to the primary, and the
// pool reopens with every append that returned.
func TestCrash(t *testing.T) {
	useKey(t, 5*time.Second)
	dir, remote := remoteDir(t, "")
	d := startDaemon(t, dir, "127.0.0.1:0")
	set, local, _ := localSet(t, d.addr, "", false)
	l, err := log.Create(set, 0, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := bytes.Repeat([]byte("0123456789abcdef"), 64)
	var acked atomic.Int64
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		for {
			if err := l.Append(rec); err != nil {
				done <- err
				return
			}
			switch acked.Add(1) {
			case 100:
				close(started)
			case 4000:
				done <- errors.New("no failure after 4000 appends")
				return
			}
		}
	}()
	<-started
	d.cmd.Process.Kill() // SIGKILL while the writer appends
	select {
	case err := <-done:
		if !errors.Is(err, core.ErrPersist) {
			t.Fatalf("append after the kill: %v", err)
		}
		t.Logf("append %d failed: %v", acked.Load()+1, err)
	case <-time.After(2 * time.Minute):
		t.Fatal("the writer hangs after rpmemd was killed")
	}
	if err := l.Close(); err == nil {
		t.Error("close after the failure: no error")
	}
	d.cmd.Wait()
	d.start(t)
	if err := pmempool.Sync(set, pmempool.SyncOptions{}); err != nil {
		t.Fatalf("sync: %v\nrpmemd: %s", err, d.stderr)
	}
	rpmemtest.SameData(t, local, remote)
	l, err = log.Open(set, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	b, err := l.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if n := acked.Load(); int64(len(b)) < n*int64(len(rec)) {
		t.Fatalf("log holds %d bytes, %d appends of %d returned", len(b), n, len(rec))
	}
}

// A daemon that stops answering (SIGSTOP): the next persist fails after
// the timeout instead of waiting for ever, and so does Close.
func TestStoppedDaemon(t *testing.T) {
	useKey(t, time.Second)
	dir, _ := remoteDir(t, "")
	d := startDaemon(t, dir, "127.0.0.1:0")
	set, _, _ := localSet(t, d.addr, "", false)
	l, err := log.Create(set, 0, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Append([]byte("before")); err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer d.cmd.Process.Signal(syscall.SIGCONT)
	done := make(chan error, 1)
	go func() { done <- l.Append([]byte("after")) }()
	select {
	case err := <-done:
		if !errors.Is(err, core.ErrPersist) {
			t.Fatalf("append to a stopped rpmemd: %v", err)
		}
		t.Log(err)
	case <-time.After(2 * time.Minute):
		t.Fatal("append to a stopped rpmemd hangs")
	}
	if err := l.Close(); !errors.Is(err, core.ErrPersist) {
		t.Fatalf("close: %v", err)
	}
}

// TestMain runs the test binary as a log writer when $RPMEMD_TEST_WRITER
// names a poolset: TestLocalCrash's child.
func TestMain(m *testing.M) {
	if set := os.Getenv("RPMEMD_TEST_WRITER"); set != "" {
		os.Exit(writer(set))
	}
	os.Exit(m.Run())
}

// writer appends to the log pool on set for ever, printing the count of
// appends returned.
func writer(set string) int {
	rpmem.SetDefault(&rpmem.Config{PSK: testKey})
	l, err := log.Open(set, nil)
	if err != nil {
		fmt.Println(err)
		return 1
	}
	rec := bytes.Repeat([]byte("fedcba9876543210"), 64)
	for i := 1; ; i++ {
		if err := l.Append(rec); err != nil {
			fmt.Println(err)
			return 1
		}
		fmt.Println(i)
	}
}

// The local side killed (SIGKILL) while it appends: the remote replica
// lags the primary or equals it, never more; the next open repairs it and
// holds every append that returned.
func TestLocalCrash(t *testing.T) {
	useKey(t, 10*time.Second)
	dir, remote := remoteDir(t, "")
	set, local, _ := localSet(t, rpmemtest.Serve(t, dir, testKey), "", false)
	l, err := log.Create(set, 0, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "RPMEMD_TEST_WRITER="+set)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(out)
	acked := 0
	for acked < 200 && sc.Scan() {
		if _, err := fmt.Sscan(sc.Text(), &acked); err != nil {
			t.Fatalf("writer: %s", sc.Text())
		}
	}
	cmd.Process.Kill()
	for sc.Scan() {
		fmt.Sscan(sc.Text(), &acked)
	}
	cmd.Wait()
	// rpmemd notices the lost connection and frees the pool: retry
	// while it still holds it.
	for try := 0; ; try++ {
		l, err = log.Open(set, nil)
		if err == nil || !errors.Is(err, rpmem.ErrRemote) || try == 100 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if len(b) < acked*1024 {
		t.Fatalf("log holds %d bytes, %d appends of 1024 returned", len(b), acked)
	}
	rpmemtest.SameData(t, local, remote)
}
