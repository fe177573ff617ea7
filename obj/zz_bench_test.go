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

func BenchmarkZZTxAllocFree(b *testing.B) {
	p, _ := newPool(b, 64<<20)
	f := func(tx *Tx) error {
		o, err := tx.Alloc(64, 1)
		if err != nil {
			return err
		}
		return tx.Free(o)
	}
	for b.Loop() {
		if err := p.Tx(f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkZZTxAddRange(b *testing.B) {
	p, _ := newPool(b, 64<<20)
	o, _ := p.Zalloc(64, 1)
	buf := p.Bytes(o)[:64]
	f := func(tx *Tx) error {
		if err := tx.AddRangeDirect(buf); err != nil {
			return err
		}
		buf[0]++
		return nil
	}
	for b.Loop() {
		if err := p.Tx(f); err != nil {
			b.Fatal(err)
		}
	}
}
