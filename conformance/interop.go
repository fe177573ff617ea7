package conformance

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RequireTool returns the path of the command name (pmempool, daxio...), or
// skips t when it is not installed.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("C PMDK interop: %s not installed (Debian package pmdk-tools): %v", name, err)
	}
	return p
}

// RequireCHeaders skips t unless gcc and the given headers of C PMDK (such
// as "libpmemlog.h") are installed.
func RequireCHeaders(t testing.TB, headers ...string) {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("C PMDK interop: gcc not installed")
	}
	for _, h := range headers {
		if _, err := os.Stat(filepath.Join("/usr/include", h)); err != nil {
			t.Skipf("C PMDK interop: /usr/include/%s missing (Debian package %s-dev)", h, h[:len(h)-2])
		}
	}
}

// CompileC compiles the C program src into t.TempDir(), linked with libs
// (such as "pmemlog"), and returns the executable's path. It skips t when
// gcc or the headers of libs are absent and fails it when gcc fails.
func CompileC(t testing.TB, src string, libs ...string) string {
	t.Helper()
	var headers []string
	for _, l := range libs {
		headers = append(headers, "lib"+l+".h")
	}
	RequireCHeaders(t, headers...)
	dir := t.TempDir()
	cfile := filepath.Join(dir, "prog.c")
	if err := os.WriteFile(cfile, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "prog")
	args := []string{"-O2", "-Wall", "-o", exe, cfile}
	for _, l := range libs {
		args = append(args, "-l"+l)
	}
	if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc %v: %v\n%s", args, err, out)
	}
	return exe
}
