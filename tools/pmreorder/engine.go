package pmreorder

import (
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
)

// Engine is a way of replaying the stores flushed between two fences: the
// sequences of them (subsets, in some order) whose images are checked.
// The names are pmreorder's.
type Engine uint8

const (
	// NoReorderNoCheck replays the stores as recorded and checks nothing:
	// the default, for the parts of a program no one asked to check.
	NoReorderNoCheck Engine = iota
	// NoReorderDoCheck checks one image: every store, in recorded order.
	NoReorderDoCheck
	// ReorderFull checks every ordered selection of the stores: every
	// permutation of every subset, the empty one included. n stores give
	// the sum over k of n!/(n-k)! images: use it on few stores.
	ReorderFull
	// ReorderPartial checks up to 3 sequences drawn (without repetition,
	// seeded) from the subsets of the stores in recorded order, taking at
	// most the first 1000 subsets of each size.
	ReorderPartial
	// ReorderAccumulative checks the growing prefixes of the recorded
	// order: none, the first store, the first two... all of them.
	ReorderAccumulative
	// ReorderReverseAccumulative checks the growing prefixes of the
	// reversed order: none, the last store, the last two... all of them
	// (last first).
	ReorderReverseAccumulative
)

// partialDraws and partialSubsets are ReorderPartial's sample size and its
// cap on the subsets of each size it draws from (pmreorder's figures).
const (
	partialDraws   = 3
	partialSubsets = 1000
)

var engineNames = [...]string{
	"NoReorderNoCheck", "NoReorderDoCheck", "ReorderFull", "ReorderPartial",
	"ReorderAccumulative", "ReorderReverseAccumulative",
}

// Engines lists every engine.
var Engines = []Engine{
	NoReorderNoCheck, NoReorderDoCheck, ReorderFull, ReorderPartial,
	ReorderAccumulative, ReorderReverseAccumulative,
}

func (e Engine) String() string {
	if int(e) < len(engineNames) {
		return engineNames[e]
	}
	return fmt.Sprintf("Engine(%d)", uint8(e))
}

// ParseEngine returns the engine of pmreorder's name s.
func ParseEngine(s string) (Engine, error) {
	for i, n := range engineNames {
		if n == s {
			return Engine(i), nil
		}
	}
	return 0, fmt.Errorf("pmreorder: unknown engine %q (want one of %s)", s, strings.Join(engineNames[:], ", "))
}

// Checks reports whether the engine checks images at all.
func (e Engine) Checks() bool { return e != NoReorderNoCheck }

// Count returns how many sequences (images) the engine checks for n
// stores flushed between two fences, math.MaxInt if more.
func (e Engine) Count(n int) int {
	switch e {
	case NoReorderDoCheck:
		return 1
	case ReorderAccumulative, ReorderReverseAccumulative:
		return n + 1
	case ReorderPartial:
		return min(partialDraws, partialPopulation(n))
	case ReorderFull:
		// sum over k of n!/(n-k)!: term k is term k-1 times (n-k+1).
		total, term := 1, 1
		for k := 1; k <= n; k++ {
			term = mulSat(term, n-k+1)
			total = addSat(total, term)
		}
		return total
	}
	return 0
}

// Sequences yields the sequences of store indices (0 to n-1) the engine
// checks for n stores, in the order it checks them; rng draws
// ReorderPartial's sample (nil: a fixed seed). A yielded slice is valid
// until the next one.
func (e Engine) Sequences(n int, rng *rand.Rand) iter.Seq[[]int] {
	return func(yield func([]int) bool) {
		seq := make([]int, 0, n)
		switch e {
		case NoReorderDoCheck:
			for i := range n {
				seq = append(seq, i)
			}
			yield(seq)
		case ReorderAccumulative, ReorderReverseAccumulative:
			for k := 0; k <= n; k++ {
				if !yield(seq) {
					return
				}
				if e == ReorderAccumulative {
					seq = append(seq, k)
				} else {
					seq = append(seq, n-1-k)
				}
			}
		case ReorderFull:
			used := make([]bool, n)
			for k := 0; k <= n; k++ {
				if !permute(seq, used, k, yield) {
					return
				}
			}
		case ReorderPartial:
			if rng == nil {
				rng = rand.New(rand.NewPCG(1, 2))
			}
			pop := partialPopulation(n)
			var picks []int
			for len(picks) < min(partialDraws, pop) {
				if p := rng.IntN(pop); !slices.Contains(picks, p) {
					picks = append(picks, p)
				}
			}
			for _, p := range picks {
				k := 0
				for ; p >= min(partialSubsets, binomial(n, k)); k++ {
					p -= min(partialSubsets, binomial(n, k))
				}
				if !yield(nthSubset(n, k, p, seq)) {
					return
				}
			}
		}
	}
}

// permute yields seq extended by every ordered selection of k more of the
// unused indices, in lexicographic order; false: the consumer stopped.
func permute(seq []int, used []bool, k int, yield func([]int) bool) bool {
	if k == 0 {
		return yield(seq)
	}
	for i := range used {
		if used[i] {
			continue
		}
		used[i] = true
		ok := permute(append(seq, i), used, k-1, yield)
		used[i] = false
		if !ok {
			return false
		}
	}
	return true
}

// nthSubset returns the p-th (0-based, p < 1000) subset of k of the
// indices 0..n-1 in lexicographic order, in buf.
func nthSubset(n, k, p int, buf []int) []int {
	s := buf[:0]
	for i := range k {
		s = append(s, i)
	}
	for ; p > 0; p-- {
		// Advance to the next subset: bump the rightmost index that can
		// move, and restart the ones after it right behind it.
		i := k - 1
		for i >= 0 && s[i] == n-k+i {
			i--
		}
		s[i]++
		for j := i + 1; j < k; j++ {
			s[j] = s[j-1] + 1
		}
	}
	return s
}

// partialPopulation is the number of subsets ReorderPartial draws from.
func partialPopulation(n int) int {
	total := 0
	for k := 0; k <= n; k++ {
		total += min(partialSubsets, binomial(n, k))
	}
	return total
}

// binomial returns n choose k, math.MaxInt if more.
func binomial(n, k int) int {
	if k < 0 || k > n {
		return 0
	}
	k = min(k, n-k)
	c := 1
	for i := 1; i <= k; i++ {
		// c*(n-k+i)/i is exact; keep it so while it fits.
		if c > math.MaxInt/(n-k+i) {
			return math.MaxInt
		}
		c = c * (n - k + i) / i
	}
	return c
}

func mulSat(a, b int) int {
	if b != 0 && a > math.MaxInt/b {
		return math.MaxInt
	}
	return a * b
}

func addSat(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}
