package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The README's two processes, as written there: a server on a mapped
// file and a client writing, persisting and reading back a message.
func TestTwoProcesses(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "rpma-example")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	env := append(os.Environ(), "RPMA_PSK=a shared secret of at least sixteen bytes")
	file := filepath.Join(dir, "region")
	srv := exec.Command(bin, "-server", "-listen", "127.0.0.1:0", "-file", file)
	srv.Env = env
	out, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var serr bytes.Buffer
	srv.Stderr = &serr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	sc := bufio.NewScanner(out)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "listening on ") {
		t.Fatalf("server said %q (%s)", sc.Text(), serr.String())
	}
	addr := strings.TrimPrefix(sc.Text(), "listening on ")
	// A client without the key gets nothing; the server goes on waiting.
	bad := exec.Command(bin, "-connect", addr)
	bad.Env = append(os.Environ(), "RPMA_PSK=another secret of sixteen bytes")
	if out, err := bad.CombinedOutput(); err == nil {
		t.Fatalf("a client with the wrong key connected: %s", out)
	}
	cli := exec.Command(bin, "-connect", addr, "-msg", "hello, persistent world")
	cli.Env = env
	cout, err := cli.CombinedOutput()
	if err != nil {
		t.Fatalf("client: %v\n%s", err, cout)
	}
	if want := "wrote, persisted and read back \"hello, persistent world\"\n"; string(cout) != want {
		t.Fatalf("client said %q, want %q", cout, want)
	}
	var rest []string
	for sc.Scan() {
		rest = append(rest, sc.Text())
	}
	if err := srv.Wait(); err != nil {
		t.Fatalf("server: %v\n%s", err, serr.String())
	}
	if len(rest) != 1 || rest[0] != `client wrote "hello, persistent world"` {
		t.Fatalf("server said %q", rest)
	}
	b, err := os.ReadFile(file)
	if err != nil || !bytes.HasPrefix(b, []byte("hello, persistent world\x00")) {
		t.Fatalf("file holds %q, %v", b[:32], err)
	}
}
