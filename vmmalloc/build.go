package vmmalloc

import (
	"embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

//go:embed shim/*.c shim/*.h
var shimFS embed.FS

// CFlags are the flags Build compiles the shim with. -fno-builtin-* keeps
// the compiler from turning the shim's own malloc+memset into a call to
// calloc (the shim's), which would recurse.
var CFlags = []string{
	"-O2", "-g", "-fPIC", "-shared", "-std=gnu11", "-Wall", "-fvisibility=hidden",
	"-ftls-model=initial-exec", "-fno-builtin-malloc", "-fno-builtin-calloc",
	"-fno-builtin-realloc", "-fno-builtin-free", "-fno-plt",
}

// LibName is the file name Build gives the preload library.
const LibName = "libvmmalloc.so"

// Build compiles the preload library into dir with the C compiler ($CC, or
// gcc) and returns its path. The C sources are embedded in this package,
// so Build works from a module cache too.
func Build(dir string) (string, error) {
	src := filepath.Join(dir, "vmmalloc-src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", err
	}
	names, err := shimFS.ReadDir("shim")
	if err != nil {
		return "", err
	}
	var cfiles []string
	for _, e := range names {
		b, err := shimFS.ReadFile("shim/" + e.Name())
		if err != nil {
			return "", err
		}
		p := filepath.Join(src, e.Name())
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return "", err
		}
		if filepath.Ext(p) == ".c" {
			cfiles = append(cfiles, p)
		}
	}
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "gcc"
	}
	lib := filepath.Join(dir, LibName)
	args := append(append([]string{}, CFlags...), "-o", lib)
	args = append(append(args, cfiles...), "-lpthread")
	out, err := exec.Command(cc, args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("vmmalloc: build the shim with %s: %v\n%s", cc, err, out)
	}
	return lib, nil
}
