// Package containers holds persistent containers on an obj pool, what
// libpmemobj-cpp gives C++ (pmem::obj::vector, string, array,
// segment_vector, radix_tree, concurrent_hash_map, mpsc_queue), shaped
// for Go: generic element types, iter.Seq2 iterators, errors that
// errors.Is matches.
//
// # Heads and handles
//
// A container is a head in the pool: a pointer-free struct
// ([VectorHead], [StringHead], [SegmentVectorHead]...) the caller embeds
// in a persistent struct or allocates as an object of its own (obj.New,
// obj.TxNew) and finds again after a restart, through the root object or
// an OID it stores. Its zero value is an empty container. A handle
// ([Vector], [String], [SegmentVector]...) is made on a head by an Open
// function ([OpenVector], [OpenString], [OpenSegmentVector]), which
// checks the head against the heap (damage is an error wrapping
// core.ErrCorrupt, never a panic). Handles are volatile: make them again
// after every Open of the pool. The elements live in objects the
// container allocates and frees itself (type numbers [TypeVectorData],
// [TypeStringData], [TypeSegmentData]); freeing a head's object without
// its container's Free first leaks them.
//
// Element types must be pointer-free, as obj.Ptr's (numbers, arrays and
// structs of them, obj.Ptr and obj.OID fields): Go pointers stored in the
// pool would be invisible to the garbage collector and dangle after a
// restart. Others are refused with obj.ErrNotPointerFree.
//
// # Atomicity
//
// Every change is crash-atomic: after a crash it is wholly there or
// wholly absent. A handle makes each change in a transaction of its own;
// bound to the caller's transaction with In (v.In(tx).PushBack(x)), its
// changes are part of that transaction, which commits or aborts them
// together with the caller's other changes. Inside a transaction, use
// In: a handle that is not bound runs its own, separate transaction. A
// change refused for its arguments (ErrOutOfRange, ErrLength) changes
// nothing and leaves the caller's transaction going; a failed allocation
// aborts it, as obj does. Changes snapshot only what they change: the
// head's fields and the elements written (elements past the length, whose
// old values do not matter, are only flushed at commit).
//
// Reads (Len, Get, All, View...) need no transaction. No container of
// this group is safe for concurrent use: callers exclude writers from
// readers and each other (an obj.RWMutex in the pool, say).
//
// # Sequences
//
// [Vector] is a growable array in one object, reallocated inside the
// transaction when it must grow (to the next power of two, at least 8
// elements): PushBack, PopBack, Append, Insert, Erase, Assign, Resize,
// Reserve, ShrinkToFit, Clear, Free, Get, Set, Update, View, All, Range.
// Growth copies the elements into a new object and frees the old one at
// commit, so an element's address changes; View is valid until the next
// change.
//
// [String] is a byte string: up to [StringInline] (32) bytes inline in
// its 64-byte head, longer ones in an object that grows as a Vector's
// (small string optimization); a string that shrinks back into the head
// (Assign, ShrinkToFit) frees its object. Assign, Append, Insert, Erase,
// Compare, Equal, Bytes (a read-only view), String (a copy).
//
// [Array] is a fixed-length array inside an object: a [N]T field of a
// persistent struct ([ArrayOf]) or a run of an object ([OpenArray]).
// Set, Update, Fill and Swap snapshot only the elements they change.
//
// [SegmentVector] grows by adding segments that never move: segment 0
// holds 8 elements, segment k > 0 holds 8<<(k-1), so n segments hold
// 8<<(n-1) elements (libpmemobj-cpp's exponential segments) and at most
// [SegmentCount] segments are recorded in its head. A pointer from At
// stays valid as the vector grows, until ShrinkToFit or Free frees its
// segment. PushBack, PopBack, Append, Insert, Erase (which move elements
// from place to place), Resize, Reserve, ShrinkToFit, Clear, Free, Get,
// Set, Update, All, Range.
//
// # Associative and concurrent containers
//
// [RadixTree] (and [BytesRadix] for byte-string values) is an ordered map
// from byte-string keys, a crit-bit tree kept in lexicographic key order,
// with All, Range and Prefix iterators. [ConcurrentHashMap] (and
// [BytesHashMap]) is a linear hash table safe for many goroutines, growing
// one bucket at a time. [MPSCQueue] is a ring of byte records that many
// goroutines produce into and one consumes; a record not consumed before a
// crash is delivered again. These start from a header object rather than
// a head: NewRadixTree, NewConcurrentHashMap, NewMPSCQueue... create one
// inside the caller's transaction (store its OID in the same transaction),
// and the matching Open function reattaches it after a restart and
// rebuilds its volatile parts (locks, counters). A change made without the
// caller's transaction is published as one set of actions (a redo log, no
// undo log). Each has Check (damage wraps [ErrDamaged] and
// core.ErrCorrupt), Objects (what it owns) and Destroy. None may be used
// after the pool is closed. RadixTree is not safe for concurrent writers.
package containers
