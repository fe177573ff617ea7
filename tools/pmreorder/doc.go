// Package pmreorder checks that a program's persistent memory stays
// consistent whatever order its stores reach the media in between fences,
// as PMDK's pmreorder tool does, without Valgrind: the program runs on a
// crash simulator device ([github.com/gopmdk/pmdk/core/crashsim]) that
// records a [crashsim.StoreLog], and [Replay] replays it.
//
// # Model
//
// On x86, stores that were flushed may reach the media in any order until
// the fence that follows their flushes; after it they all have. At every
// fence of the log, Replay takes the image of every store fenced before,
// applies the stores flushed since the previous fence in each sequence the
// engine in force gives (subsets of them, in some order), and runs the
// [Checker] on each image. A store that is never flushed is never replayed,
// as in PMDK's pmreorder; the stores flushed after the log's last fence are
// replayed as at a fence at the end of the log. A store is what a flush
// found changed in one 64-byte line since the log last recorded it (its
// changed 8-byte words), so two stores to the same line between fences may
// land in either order too.
//
// # Engines and markers
//
// The engines have pmreorder's names and sequences (see [Engine]):
// NoReorderNoCheck (the default: replay, check nothing), NoReorderDoCheck,
// ReorderFull, ReorderPartial, ReorderAccumulative and
// ReorderReverseAccumulative. The program sets markers in the log with
// [crashsim.Mark]: NAME.BEGIN and NAME.END around a region, nested, never
// crossed. Config.Markers gives a region an engine by its NAME, or by the
// part of NAME before its first dot; a region no entry names keeps the
// engine around it. [ParseMarkers] reads pmreorder's -x syntax.
//
// # Checkers
//
// A [Checker] is a Go function given each image on a scratch crash
// simulator device (a library's open and check, say; [WorkloadChecker]
// adapts a crash simulator workload), or a program run on the image written
// to a file ([ProgramChecker]: exit status 0 means consistent, as
// pmreorder's "prog" checker). Replay stops at the first inconsistent
// image and returns it with the fence, the engine, the open markers and
// the stores in the order that made it ([Inconsistency]).
//
// # Differences from PMDK's pmreorder
//
//   - The store log comes from gopmdk's crash simulator, not pmemcheck:
//     stores are recorded when flushed, at 8-byte word granularity within a
//     line, with no stack traces; there is no file registration (one device
//     per log).
//   - No "lib" checker (a C function in a shared library): Go checkers go
//     through this package.
//   - Replay stops at the first inconsistency; pmreorder logs each.
//   - ReorderPartial's draws are seeded (Config.Seed), so a run repeats.
//   - An engine that would check more than Config.MaxSequences images at
//     one fence is an error, not a run that never ends.
//   - Stores flushed after the last fence are checked; pmreorder drops them.
package pmreorder
