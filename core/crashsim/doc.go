// Package crashsim simulates persistent memory with power failures, to test
// that a persistent data structure survives a crash at any moment. It does
// in process, without Valgrind, what PMDK's pmreorder does.
//
// # Device
//
// A [Device] is a [core.Map] whose persist path records what is durable. Its
// working memory, what the code under test reads and writes, is a real
// anonymous mapping; beside it the device keeps the durable image: what the
// media is certain to hold after a power failure.
//
//   - Flush (and the flush of Memmove/Memset) records the content of the
//     covered 64-byte cache lines at that moment.
//   - The fence (Drain, the end of Persist, Memmove and Memset without
//     MemNoDrain) makes the recorded lines durable. Fences are the crash
//     points; they are counted from 1.
//   - Stores that were never flushed are found at the crash by comparing the
//     working memory with the durable image.
//
// At a crash every line that was written, or flushed but not yet fenced, is
// uncertain: each of its 8-byte words (the unit x86 stores atomically) keeps
// its durable content or a newer one (a flushed snapshot or the content at
// the crash). A [Strategy] picks the survivors: [Pessimistic] (only fenced
// data), [Optimistic] (every store), [Random] (seeded; the seed and the
// crash point determine the image) or [Exhaustive] (every combination, when
// they are few; a seeded sample otherwise).
//
// # Exploring a workload
//
// A [Workload] is a Run function (the code under test), an optional Setup
// and a Check that reopens a post-crash image and tests its invariants.
// [Run] runs the workload once to count its F fences, then once per crash
// point p in 1..F+1, cut off at fence p (point F+1: after Run returned with
// its last stores unfenced), and calls Check on a device holding each
// post-crash image each strategy gives. Check sees only the image: what it
// needs to know of the run (how many operations were acknowledged before
// the crash, say) it derives from [Crash.Point], since the fences of a
// deterministic Run fall at the same counts every time. A failure names the crash point,
// the strategy and the seed ([Crash.String] prints the Options that
// reproduce it). [Explore] does the same inside a test, one t.Errorf per
// failure, saving failing images under t.ArtifactDir.
//
// The workload is cut off by a panic with [ErrCrash] from the crashing
// fence; every later persist call on that device panics the same way. Code
// that recovers panics (a transaction rolling back, say) must re-panic a
// value for which [IsCrash] is true; goroutines a workload starts must
// recover it themselves (a panic in a goroutine ends the process) and the
// workload must wait for them. Run must be deterministic: the same fences
// in the same order every time. Setup has no crash points.
//
// # Crashes during recovery
//
// A workload may split its Check: Recover (the library's open and repair)
// runs on each image first, then Check. With Options.RecoveryPoints the
// recovery itself is cut off at its fences, and the image that second
// crash leaves is recovered and checked again: recovery must be
// idempotent. [Crash.RecoveryPoint] names such a failure.
//
// This workload commits a record by persisting its payload and then a
// valid flag; Check demands that a valid record holds its payload:
//
//	w := crashsim.Workload{
//		Size: 4096,
//		Run: func(m *core.Map) error {
//			b := m.Bytes()
//			copy(b[64:], "payload")
//			m.Persist(b[64:71]) // forget this and Explore fails
//			b[0] = 1            // the valid flag
//			m.Persist(b[0:1])
//			return nil
//		},
//		Check: func(m *core.Map, c crashsim.Crash) error {
//			b := m.Bytes()
//			if b[0] == 1 && string(b[64:71]) != "payload" {
//				return errors.New("valid record without its payload")
//			}
//			return nil
//		},
//	}
//	crashsim.Explore(t, w, crashsim.Options{}) // in a test
//
// Package [github.com/gopmdk/pmdk/core/crashsim/examples] has more such
// structures (a flagged record, a copy-on-write pair, a linked append, an
// undo log with its recovery), each correct and with deliberate bugs
// (missing flush, missing fence, flag before data, a recovery that is not
// crash-safe) that the simulator must flag.
//
// # Recording stores for pmreorder
//
// [Device.StartRecording] makes the device write a [StoreLog] of what a
// program does to it, the input of the pmreorder tool
// (github.com/gopmdk/pmdk/tools/pmreorder), as Valgrind's pmemcheck
// writes one for PMDK's: the durable image at the start, then in order
// the stores (each flushed line's changed words, found by comparing the
// line with what the log last recorded of it), the fences and the markers
// a program sets with [Mark] around the regions to check. Stores that are
// never flushed are not in the log. [StoreLog] documents the encoding.
//
// # Budget
//
// Each crash point re-runs Setup and Run on a fresh device. The images are
// checked on one scratch device, reloaded for each (so the Map given to
// Check is valid until Check returns). Options.MaxPoints samples the crash
// points (seeded), Options.ExhaustiveLimit caps Exhaustive's images per
// point. Both images of a device are anonymous mappings, and pages nobody
// touched are never read or copied (Linux reports them in
// /proc/self/pagemap), so a large, mostly empty device costs what its
// workload touches.
//
// # Limits
//
// Between two fences, at most four flushed versions of a line are kept
// (intermediate values of unflushed lines are not tracked: only the content
// at the crash). Stores from other goroutines racing with the crash may or
// may not be in the working memory the crash compares.
package crashsim
