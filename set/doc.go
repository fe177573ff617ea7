// Package set implements libpmemset (PMDK 1.12.1, experimental there) in
// Go: a persistent memory set built from parts of sources.
//
// A [Source] is a file (by path, with create and do-not-grow flags; a
// nameless temporary file; an open *os.File) or a core.Source. [Set.Map]
// maps a part of a source, Length bytes from Offset, into the set and
// returns the [PartMap] holding it. With [Set.SetCoalescing] a new part is
// mapped right after the previous part map, extending it into one
// contiguous range (core.NewPartsMapAt, which never replaces a mapping):
// CoalescingOpportunistic starts a new part map when those addresses are
// taken, CoalescingFull fails with ErrCannotCoalesce. Part maps are walked
// with FirstPartMap/NextPartMap, found with PartMapAt and removed with
// RemovePartMap, RemoveRange (whole parts; a part map may split) or Close.
//
// As in libpmemset, FirstPartMap, NextPartMap and PartMapAt take a
// reference to the part map, given back with [PartMap.Drop]. A referenced
// part map stays: RemovePartMap refuses one that others than its caller
// reference, RemoveRange any referenced one (ErrPartMapInUse, and nothing
// of the range is removed); Close removes them all.
//
// With Config.Reservation (pmemset_config_set_reservation) parts are
// mapped into a [core.Reservation] the caller made (core.NewReservation,
// pmem2_vm_reservation_new): a new part map at the lowest offset where
// the part fits (else ErrCannotFitPartMap), a coalesced part right after
// its part map if that range of the reservation is free and inside it. A
// removed part gives its range back to the reservation, which stays the
// caller's to close after the set (core refuses to close it while parts
// are in it). Without one, part maps go wherever the system has room.
//
// [Set.MapReplica] maps a local replica of a poolset parsed by core/poolset
// the way core/pool does (its Layout's ranges, coalesced into one part
// map), so a set can hold a C poolset's replicas.
//
// Persist, Flush, Drain, DeepFlush, Memcpy, Memmove and Memset take any
// range of the set, across parts and part maps: each part's share goes
// through that part's persist path (core.Map) without a fence, and one
// drain ends the operation. All parts share one store granularity: the
// first part sets it, a part with another fails with
// ErrGranularityMismatch, and a part coarser than
// Config.RequiredGranularity fails with ErrGranularityNotSupported.
//
// Config.OnEvent sees every operation in order, as libpmemset's event
// callback: copy/move/set before the stores, flush, drain (Persist is a
// flush and a drain event), part add and remove, shutdown state updates,
// bad blocks found and cleared.
//
// # Shutdown state
//
// A source may carry an [SDS] (Source.SetSDS): the NVDIMM ids and unsafe
// shutdown count core reads for it, and a count of its mapped parts, which
// the application stores durably on each EventSDSUpdate. Mapping a part
// computes the part's [PartState] (a count that changed while parts were
// mapped is StateCorrupted, a count of parts left from an earlier run is
// StateOKButInterrupted) and refuses states outside
// Config.AcceptableStates. With Source.SetBadBlockDetection each bad
// block of the source is reported (EventBadBlock) and the map fails with
// ErrBadBlocks unless the callback cleared them (Source.ClearBadBlock:
// the blocks of a regular file are deallocated and allocated again,
// reading zeros).
//
// # Differences from libpmemset
//
// The required granularity is a field of Config whose zero value is
// GranularityByte, where C refuses a config without one. A part that would
// coalesce past the end of Config.Reservation cannot coalesce
// (CoalescingOpportunistic then places it elsewhere; C fails the map).
// RemoveRange refuses a range with a referenced part map as a whole. The
// part map Map returns is not referenced. Without a reservation the set
// does not build one of its own (C maps every part through one). Bad
// blocks cannot be cleared on device DAX (the NVDIMM bus's clear-error
// command); Source.ReadAt and WriteAt (pread/pwrite_mcsafe) refuse
// device DAX. Event callbacks return nothing (C ignores their result
// too), and run with the set unlocked. DeepFlush does not flush a device DAX region's write
// queues.
package set
