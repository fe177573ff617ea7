package hal

import "testing"

// Under eADR (FlushNone) libpmem copies with ordinary stores unless asked
// for non-temporal ones with MemNonTemporal; MemWC alone is not enough.
func TestUseNonTemporalEADR(t *testing.T) {
	k := &Kernels{flush: FlushNone, move: MoveSSE2, threshold: DefaultMovntThreshold}
	for _, c := range []struct {
		n     int
		flags MemFlags
		want  bool
	}{
		{1 << 20, 0, false},
		{1 << 20, MemWC, false},
		{64, MemNonTemporal, true},
		{64, MemNonTemporal | MemNoDrain, true}, // the bare store loop Memmove documents
		{1 << 20, MemNonTemporal | MemNoFlush, false},
	} {
		if got := k.useNonTemporal(c.n, c.flags); got != c.want {
			t.Errorf("eADR useNonTemporal(%d, %#x) = %v, want %v", c.n, c.flags, got, c.want)
		}
	}
	k.flush = FlushCLWB
	if !k.useNonTemporal(1<<20, 0) || !k.useNonTemporal(64, MemWC) || k.useNonTemporal(1<<20, MemWB) {
		t.Error("flushing kernels: threshold and WC/WB hints not honoured")
	}
}
