// Package layout describes the on-media format of a libpmemobj pool as
// PMDK 1.12.1 writes it (pool layout major 6, heap major 1): the pool
// descriptor after the common pool header, the lanes with their unified
// logs (ulogs), and the heap of zones, chunks, runs and object headers. It
// also computes what C derives from the format rather than stores: the
// geometry of zones and run bitmaps and the default allocation classes.
//
// The package is pure: functions on byte slices and numbers, no mapping,
// no persistence, no locking. The obj library and the pmempool tools both
// build on it, so the format is written down once.
//
// # Pool
//
//	0x0000  pool header (core/pool), signature "PMEMOBJ", major 6
//	0x1000  descriptor, 2 KiB, checksummed: layout name (1024 bytes),
//	        lanes_offset, nlanes, heap_offset, unused, reserved, checksum
//	0x1800  root_offset, run_id, root_size, conversion_flags, heap_size,
//	        stats (heap_curr_allocated), 496 reserved bytes
//	0x1a20  C's run-time fields (never read; zero when Go creates a pool)
//	0x2000  1024 lanes of 3072 bytes: internal redo (256), external redo
//	        (704) and undo (2112) ulogs
//	0x302000 the heap (page aligned), to the end of the pool
//
// # Heap
//
// A 1024-byte heap header (signature "MEMORY_HEAP_HDR", chunk size 256 KiB,
// 65528 chunks per zone, checksum) is followed by zones. A zone is a 64-byte
// header (magic 0xC3F0A2D2 once initialized, its chunk count) and an array
// of 65528 eight-byte chunk headers (512 KiB in all), then its chunks. A
// chunk header holds a type (free, used, run, run data, footer), flags
// (object header type, aligned, flexible bitmap) and a size in chunks. A
// used chunk is one huge object; a run chunk is cut into equal units
// tracked by a bitmap (a set bit is a used unit) after a 16-byte run
// header. Every object starts with a header: compact (16 bytes: size with
// flags in its top 16 bits, type number), legacy (64 bytes) or none.
//
// # Ulog
//
// A ulog is a 64-byte header (checksum, next, capacity, generation,
// flags) followed by entries. An entry starts with a word holding the
// target offset in its low 61 bits and the operation in the top three:
// SET, AND, OR (16-byte entries with a value), BUF_SET and BUF_CPY
// (a checksummed buffer, padded to 64 bytes). A redo log is valid when the
// header checksum over the header and its entries matches; undo buffer
// entries are valid when their own checksum, seeded with the log's
// generation number, matches.
//
// The reference for every offset and rule here is ../../shared/reference
// (source map: obj.h, lane.h, ulog.h, heap_layout.h, memblock.c,
// alloc_class.c) and the bytes C 1.12.1 writes, which the tests compare.
package layout
