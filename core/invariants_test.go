//go:build invariants

package core

import "testing"

func TestInvariantsCatchForeignSlices(t *testing.T) {
	data := make([]byte, 4096)
	m := NewMemoryMap(data, GranularityByte, NewPersister(GranularityByte, nil), nil)
	m.Persist(data[100:200]) // inside: fine
	defer func() {
		if recover() == nil {
			t.Fatal("Persist of a foreign slice did not panic under -tags invariants")
		}
	}()
	m.Persist(make([]byte, 64))
}
