package bench

import (
	"slices"
	"testing"
)

func TestTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		want   []float64
	}{
		{0.9, 1.3, []float64{1, 1.2}},
		{0.6, 2.8, []float64{0.6, 0.8, 1, 1.2, 1.5, 2, 2.5}},
		{0.12, 6.6, []float64{0.2, 0.3, 0.5, 1, 2, 3, 5}},
		{0.004, 900, []float64{0.01, 0.1, 1, 10, 100}},
	} {
		if got := ticks(c.lo, c.hi); !slices.Equal(got, c.want) {
			t.Errorf("ticks(%v, %v) = %v, want %v", c.lo, c.hi, got, c.want)
		}
	}
}
