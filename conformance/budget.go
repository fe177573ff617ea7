package conformance

import (
	"os"
	"strconv"
	"testing"

	"github.com/gopmdk/pmdk/core/crashsim"
)

// Full reports whether the long suite was asked for (CONFORMANCE_FULL=1,
// make conformance-full): every crash point, more seeds, Exhaustive.
func Full() bool { return os.Getenv("CONFORMANCE_FULL") == "1" }

// Seed returns the seed of this run: CONFORMANCE_SEED if set, else 1.
func Seed() int64 {
	if s, err := strconv.ParseInt(os.Getenv("CONFORMANCE_SEED"), 10, 64); err == nil && s != 0 {
		return s
	}
	return 1
}

// Budget returns the crash-exploration options for one crash case: up to
// 200 crash points (50 with -short) with Pessimistic, Optimistic and one
// Random strategy; with [Full], every point, three more Random seeds,
// Exhaustive, and 20 crash points in the recovery of each image (for
// workloads with Recover). -short caps Exhaustive at 32 images and the
// recovery at 5 crash points per image.
func Budget(t testing.TB, c CrashCase, b Backend) crashsim.Options {
	seed := Seed()
	o := crashsim.Options{
		MaxPoints:  200,
		Seed:       seed,
		Strategies: []crashsim.Strategy{crashsim.Pessimistic, crashsim.Optimistic, crashsim.Random(seed)},
		Kernels:    b.Kernels,
	}
	if testing.Short() {
		o.MaxPoints = 50
	}
	if Full() {
		o.MaxPoints = 0
		o.ExhaustiveLimit = 64
		o.Strategies = append(o.Strategies, crashsim.Random(seed+1), crashsim.Random(seed+2), crashsim.Random(seed+3), crashsim.Exhaustive)
	}
	if Full() {
		o.RecoveryPoints = 20
	}
	if c.Strategies != nil {
		o.Strategies = c.Strategies
	}
	if c.RecoveryPoints != 0 {
		o.RecoveryPoints = c.RecoveryPoints
	}
	if testing.Short() {
		// -short (the race run): a sample of every enumeration.
		if c.ShortPoints > 0 {
			o.MaxPoints = c.ShortPoints
		}
		o.ExhaustiveLimit = 32
		if o.RecoveryPoints < 0 || o.RecoveryPoints > 5 {
			o.RecoveryPoints = 5
		}
	}
	return o
}
