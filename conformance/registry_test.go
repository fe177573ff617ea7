package conformance

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
)

// A case file's init is all a library needs: its cases are listed under
// its name, in registration order, and the library among the sorted names.
func TestRegistry(t *testing.T) {
	Register("zz-test", Case{Name: "a"}, Case{Name: "b"})
	Register("zz-test", Case{Name: "c"})
	RegisterCrash("zz-crash-only", CrashCase{Name: "x"})
	t.Cleanup(func() {
		registry.Lock()
		delete(registry.cases, "zz-test")
		delete(registry.crash, "zz-crash-only")
		registry.Unlock()
	})
	var names []string
	for _, c := range Cases("zz-test") {
		names = append(names, c.Name)
	}
	if !slices.Equal(names, []string{"a", "b", "c"}) {
		t.Errorf("cases %v", names)
	}
	libs := Libraries()
	if !slices.IsSorted(libs) || !slices.Contains(libs, "zz-test") || !slices.Contains(libs, "zz-crash-only") {
		t.Errorf("libraries %v", libs)
	}
	// The external test package's init functions ran too (one binary).
	if !slices.Contains(libs, "core") || !slices.Contains(libs, "crashsim") {
		t.Errorf("libraries %v: core or crashsim cases missing", libs)
	}
}

func TestBackendsCoverEveryKind(t *testing.T) {
	bs := Backends(t)
	var file, crash, newmap int
	for _, b := range bs {
		switch {
		case b.Crash:
			crash++
		case b.Kernels != nil:
			file++
		default:
			newmap++
		}
		if b.NewMap == nil || b.Reopen == nil || b.Path == nil {
			t.Errorf("%s: missing a function", b.Name)
		}
	}
	if file == 0 || crash == 0 || newmap < 2 {
		t.Errorf("%d file, %d crash simulator, %d core.NewMap backends", file, crash, newmap)
	}
}

// On a real backend a crash case runs uncut and Check sees Point = fences+1,
// as after the last crash point on the simulator.
func TestRunUncutCountsFences(t *testing.T) {
	w := crashsim.Workload{
		Size:  4096,
		Setup: func(m *core.Map) error { m.Bytes()[0] = 7; m.Persist(m.Bytes()[:1]); return m.Close() },
		Run: func(m *core.Map) error {
			if m.Bytes()[0] != 7 {
				return errors.New("setup's store lost")
			}
			m.Persist(m.Bytes()[64:65])
			m.Memset(m.Bytes()[128:256], 1, core.MemNoDrain)
			m.Drain()
			m.Memmove(m.Bytes()[256:300], m.Bytes()[128:172], 0)
			return m.Close()
		},
		Check: func(m *core.Map, c crashsim.Crash) error {
			if c.Fences != 3 || c.Point != 4 {
				return fmt.Errorf("crash %+v: want 3 fences, point 4", c)
			}
			if m.Bytes()[299] != 1 {
				return errors.New("run's stores lost")
			}
			return nil
		},
	}
	for _, b := range Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			if err := RunUncut(t, b, w); err != nil {
				t.Fatal(err)
			}
		})
	}
}
