package obj

import "testing"

func BenchmarkZZTxEmpty(b *testing.B) {
	p, _ := newPool(b, 64<<20)
	f := func(*Tx) error { return nil }
	for b.Loop() {
		if err := p.Tx(f); err != nil {
			b.Fatal(err)
		}
	}
}
