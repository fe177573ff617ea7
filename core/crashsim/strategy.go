package crashsim

import "fmt"

type strategyKind uint8

const (
	kindPessimistic strategyKind = iota
	kindOptimistic
	kindRandom
	kindExhaustive
)

// Strategy chooses, for every 8-byte word that was written or flushed but
// not fenced at the crash, which of its versions the post-crash image keeps.
// The zero value is [Pessimistic].
type Strategy struct {
	kind strategyKind
	seed int64
}

var (
	// Pessimistic keeps nothing that was not fenced: the durable image only.
	Pessimistic = Strategy{kind: kindPessimistic}
	// Optimistic keeps every store made before the crash.
	Optimistic = Strategy{kind: kindOptimistic}
	// Exhaustive produces one image per combination of word versions when
	// there are at most Options.ExhaustiveLimit of them; beyond that, as many
	// seeded random images (the first two being the pessimistic and the
	// optimistic one). Crash.Seed is then the image's index.
	Exhaustive = Strategy{kind: kindExhaustive}
)

// Random picks the version of each word at random. The seed and the crash
// point together fully determine the image.
func Random(seed int64) Strategy { return Strategy{kind: kindRandom, seed: seed} }

// Seed returns the seed of a Random strategy (0 for the others).
func (s Strategy) Seed() int64 { return s.seed }

// Name returns "pessimistic", "optimistic", "random" or "exhaustive".
func (s Strategy) Name() string {
	switch s.kind {
	case kindPessimistic:
		return "pessimistic"
	case kindOptimistic:
		return "optimistic"
	case kindRandom:
		return "random"
	case kindExhaustive:
		return "exhaustive"
	}
	return fmt.Sprintf("Strategy(%d)", s.kind)
}

// String returns the Go expression of s, such as "crashsim.Random(42)".
func (s Strategy) String() string {
	switch s.kind {
	case kindPessimistic:
		return "crashsim.Pessimistic"
	case kindOptimistic:
		return "crashsim.Optimistic"
	case kindRandom:
		return fmt.Sprintf("crashsim.Random(%d)", s.seed)
	case kindExhaustive:
		return "crashsim.Exhaustive"
	}
	return s.Name()
}
