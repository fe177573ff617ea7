package core_test

import (
	"sync"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pmemtest"
)

// Mappings come and go while other goroutines persist through the facade:
// the registry must stay consistent (run with -race).
func TestFacadeConcurrentMapAndPersist(t *testing.T) {
	t.Setenv("PMEM_IS_PMEM_FORCE", "")
	dir := pmemtest.Dir(t)
	stable, err := core.MapFile(dir+"/stable", 1<<20, core.FileCreate, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer stable.Close()
	skipIfDAX(t, dir+"/stable")
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			part := stable.Bytes()[g*4096 : (g+1)*4096]
			for i := range 200 {
				core.MemsetPersist(part, byte(i))
				if core.IsPmem(part) {
					t.Error("page-cache mapping reported as pmem")
					return
				}
			}
		})
	}
	for g := range 2 {
		wg.Go(func() {
			for i := range 20 {
				m, err := core.MapFile(pmemtest.Path(t, "churn"+string(rune('a'+g))+string(rune('a'+i))), 64<<10, core.FileCreate, 0o600)
				if err != nil {
					t.Error(err)
					return
				}
				core.MemcpyPersist(m.Bytes(), []byte("churn"))
				if err := m.Close(); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for g := range 4 {
		if stable.Bytes()[g*4096] != 199 {
			t.Fatalf("part %d holds %d", g, stable.Bytes()[g*4096])
		}
	}
}
