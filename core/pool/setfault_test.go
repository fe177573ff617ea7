package pool

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
)

// TestSetCreateHeaderFaultRemovesParts fails the header write of each part
// in turn: the create fails with that error, removes every part file it
// created and leaves the one that existed before (zeroed, as a create
// needs it) in place, as C's util_pool_create does.
func TestSetCreateHeaderFaultRemovesParts(t *testing.T) {
	parts := []string{"p0", "p1", "p2", "r0", "r1"}
	broken := errors.New("injected header write failure")
	for _, bad := range parts {
		t.Run(bad, func(t *testing.T) {
			dir := pmemtest.Dir(t)
			set := pmemtest.Poolset(t, dir, "f.set", "4M {dir}/p0", "4M {dir}/p1", "4M {dir}/p2", "REPLICA", "8M {dir}/r0", "4M {dir}/r1")
			// p1 exists before the create.
			if err := os.WriteFile(filepath.Join(dir, "p1"), make([]byte, 4<<20), 0o600); err != nil {
				t.Fatal(err)
			}
			faultPartHeader = func(path string) error {
				if filepath.Base(path) == bad {
					return broken
				}
				return nil
			}
			defer func() { faultPartHeader = func(string) error { return nil } }()
			if _, err := Create(set, 0, 0o600, Obj, nil); !errors.Is(err, broken) {
				t.Fatalf("create: %v, want the injected failure", err)
			}
			for _, part := range parts {
				_, err := os.Stat(filepath.Join(dir, part))
				if part == "p1" && err != nil {
					t.Fatalf("the existing part: %v", err)
				}
				if part != "p1" && !errors.Is(err, fs.ErrNotExist) {
					t.Fatalf("part %s left by the failed create (%v)", part, err)
				}
			}
		})
	}
}
