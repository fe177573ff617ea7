package conformance_test

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/gopmdk/pmdk/conformance"
	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
	"github.com/gopmdk/pmdk/kv"
	"github.com/gopmdk/pmdk/obj"
	"github.com/gopmdk/pmdk/obj/objtest"
)

// kv's cases: each persistent engine on every backend, and its puts,
// removes and batches cut at every fence.
func init() {
	for _, engine := range []string{kv.STree, kv.CMap, kv.Radix} {
		conformance.Register("kv",
			conformance.Case{Name: engine + "-reopen", Run: func(t *testing.T, b conformance.Backend) { kvReopen(t, b, engine) }},
		)
		conformance.RegisterCrash("kv",
			conformance.CrashCase{Name: engine + "-writes", Workload: kvCrashWorkload(engine, 0), ShortPoints: 8},
		)
	}
	// stree's puts that split no node are actions published on their own
	// (a copy of the leaf), the others a transaction: a full root leaf
	// has the first put split it and the next ones copy a leaf an inner
	// node links.
	conformance.RegisterCrash("kv",
		conformance.CrashCase{Name: "stree-split", Workload: kvCrashWorkload(kv.STree, 30), ShortPoints: 8},
	)
}

var kvObjOpts = &obj.Options{Layout: kv.Layout, Arenas: 1}

// kvOpen opens engine in the obj pool on m (made if create).
func kvOpen(m *core.Map, engine string, create bool) (*obj.Pool, *kv.DB, error) {
	var p *obj.Pool
	var err error
	if create {
		p, err = obj.CreateOnMap(objtest.View(m), kvObjOpts)
	} else {
		p, err = obj.OpenOnMap(objtest.View(m), kvObjOpts)
	}
	if err != nil {
		return nil, nil, err
	}
	db, err := kv.Open(engine, &kv.Config{Pool: p})
	if err != nil {
		p.Close()
		return nil, nil, err
	}
	return p, db, nil
}

// kvContent reads every pair through GetAll and checks CountAll and Get
// agree with it.
func kvContent(db *kv.DB) (map[string]string, error) {
	got := map[string]string{}
	if err := db.GetAll(func(k, v []byte) bool { got[string(k)] = string(v); return true }); err != nil {
		return nil, err
	}
	n, err := db.CountAll()
	if err != nil || n != len(got) {
		return nil, fmt.Errorf("CountAll %d (%v), GetAll saw %d", n, err, len(got))
	}
	for k, v := range got {
		if g, err := db.Get([]byte(k)); err != nil || string(g) != v {
			return nil, fmt.Errorf("Get(%q): %d bytes (%v), GetAll saw %d", k, len(g), err, len(v))
		}
	}
	return got, nil
}

func kvReopen(t *testing.T, b conformance.Backend, engine string) {
	m := b.NewMap(t, 16<<20)
	p, db, err := kvOpen(m, engine, true)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for i := range 40 {
		k, v := fmt.Sprintf("key%04d", i*37%1000), string(bytes.Repeat([]byte{byte(i)}, i%5*100))
		if err := db.Put([]byte(k), []byte(v)); err != nil {
			t.Fatal(err)
		}
		want[k] = v
	}
	for k := range want {
		if k[len(k)-1] == '3' {
			if err := db.Remove([]byte(k)); err != nil {
				t.Fatal(err)
			}
			delete(want, k)
		}
	}
	db.Close()
	p.Close()
	m = b.Reopen(t, m)
	p, db, err = kvOpen(m, engine, false)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	defer db.Close()
	got, err := kvContent(db)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got, want) {
		t.Fatalf("reopened %s holds %d pairs, want %d", engine, len(got), len(want))
	}
	if probs := p.Check(); len(probs) > 0 {
		t.Fatal(errors.Join(probs...))
	}
}

// kvStep is one write: puts (one, or a batch of several with removes).
type kvStep struct {
	puts    map[string]string
	removes []string
	batch   bool
}

func (s kvStep) next(st map[string]string) map[string]string {
	n := maps.Clone(st)
	maps.Copy(n, s.puts)
	for _, k := range s.removes {
		delete(n, k)
	}
	return n
}

func kvSteps(engine string) []kvStep {
	big := string(bytes.Repeat([]byte("x"), 3000))
	steps := []kvStep{
		{puts: map[string]string{"a": "first"}},
		{puts: map[string]string{"": ""}},              // empty key and value
		{puts: map[string]string{"b": big}},            // a value past a cache line
		{puts: map[string]string{"a": "second value"}}, // overwrite, another size
		{removes: []string{"b"}},
		{puts: map[string]string{"c": "sixteen bytes!!!"}},
	}
	if engine != kv.CMap { // pmemkv's cmap has no transactions
		steps = append(steps,
			kvStep{batch: true, puts: map[string]string{"d": "1", "e": big[:100], "a": "third"}, removes: []string{"c", ""}},
		)
	}
	return steps
}

// kvCrashWorkload runs engine's steps on a pool Setup made with a few
// pairs (and prefill more) already in it. After a crash at any fence, the engine opens and
// holds the state after every step that returned, or that and the step
// in flight: no put lost, nothing torn, a batch whole or absent, counts
// agreeing with the pairs; the heap checker passes and the engine takes
// writes.
func kvCrashWorkload(engine string, prefill int) crashsim.Workload {
	steps := kvSteps(engine)
	initial := map[string]string{"k0": "zero", "k1": "one"}
	for i := range prefill {
		initial[fmt.Sprintf("p%02d", i)] = fmt.Sprint(i)
	}
	states := []map[string]string{initial}
	for _, s := range steps {
		states = append(states, s.next(states[len(states)-1]))
	}
	acked := make([]int, len(steps))
	return crashsim.Workload{
		Size: obj.MinPoolSize,
		Setup: func(m *core.Map) error {
			p, db, err := kvOpen(m, engine, true)
			if err != nil {
				return err
			}
			for _, k := range slices.Sorted(maps.Keys(initial)) {
				if err := db.Put([]byte(k), []byte(initial[k])); err != nil {
					return err
				}
			}
			return errors.Join(db.Close(), p.Close())
		},
		Run: func(m *core.Map) error {
			dev, _ := m.Persister().(*crashsim.Device)
			p, db, err := kvOpen(m, engine, false)
			if err != nil {
				return err
			}
			for i, s := range steps {
				if s.batch {
					err = db.Update(func(b *kv.Batch) error {
						for _, k := range slices.Sorted(maps.Keys(s.puts)) {
							if err := b.Put([]byte(k), []byte(s.puts[k])); err != nil {
								return err
							}
						}
						for _, k := range s.removes {
							if err := b.Remove([]byte(k)); err != nil {
								return err
							}
						}
						return nil
					})
				} else {
					for _, k := range slices.Sorted(maps.Keys(s.puts)) { // the same fences every run
						err = db.Put([]byte(k), []byte(s.puts[k]))
					}
					for _, k := range s.removes {
						err = db.Remove([]byte(k))
					}
				}
				if err != nil {
					return fmt.Errorf("step %d: %w", i, err)
				}
				if dev != nil {
					acked[i] = dev.Fences()
				}
			}
			return errors.Join(db.Close(), p.Close())
		},
		Recover: func(m *core.Map) error {
			p, db, err := kvOpen(m, engine, false)
			if err != nil {
				return err
			}
			return errors.Join(db.Close(), p.Close())
		},
		Check: func(m *core.Map, c crashsim.Crash) error {
			done := c.Acknowledged(acked)
			p, db, err := kvOpen(m, engine, false)
			if err != nil {
				return fmt.Errorf("reopen after %d steps: %w", done, err)
			}
			defer p.Close()
			defer db.Close()
			got, err := kvContent(db)
			if err != nil {
				return fmt.Errorf("after %d steps: %w", done, err)
			}
			if !maps.Equal(got, states[done]) && (done == len(steps) || !maps.Equal(got, states[done+1])) {
				return fmt.Errorf("after %d steps the engine holds %d pairs %v: neither state %d nor the next", done, len(got), keysOf(got), done)
			}
			if probs := p.Check(); len(probs) > 0 {
				return fmt.Errorf("after %d steps: heap check: %w", done, errors.Join(probs...))
			}
			return db.Put([]byte("after"), []byte("crash"))
		},
	}
}

func keysOf(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, fmt.Sprintf("%q(%d)", k, len(m[k])))
	}
	return ks
}
