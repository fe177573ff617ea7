package conformance

import (
	"slices"
	"testing"
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
