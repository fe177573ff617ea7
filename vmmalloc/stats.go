package vmmalloc

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Stats are the figures the shim writes at exit (VMMALLOC_LOG_STATS=1) or
// when a program calls vmmalloc_stats_print(fd): one pool, one process.
type Stats struct {
	PID           int
	PoolSize      int64
	PageSize      int64
	ForkMode      int
	Private       bool  // the pool was remapped MAP_PRIVATE (a fork in mode 1)
	ThreadCaches  int   // live per-thread caches
	Allocated     int64 // bytes in live allocations (by usable size)
	Allocations   int64 // live allocations
	SmallAllocs   int64 // allocations of 32 KiB and less, since the start
	SmallFrees    int64
	LargeAllocs   int64
	LargeFrees    int64
	Active        int64 // bytes of pages in slabs and large allocations
	PeakActive    int64 // the most Active was
	SlabBytes     int64
	Slabs         int64
	CachedObjects int64 // free objects in thread caches
	LargeBytes    int64
	Free          int64 // bytes of pages in free extents
	LargestFree   int64
	Released      int64 // free bytes not backed by the file
	ReleasedTotal int64 // bytes given back to the file so far
	FileResident  int64 // the pool file's allocated bytes (st_blocks)
	DoubleFrees   int64
}

const (
	statsBegin = "___ Begin vmmalloc statistics ___"
	statsEnd   = "--- End vmmalloc statistics ---"
)

// ParseStats reads every statistics block in r (a log file may hold
// several: one per process when forks share it).
func ParseStats(r io.Reader) ([]Stats, error) {
	var out []Stats
	var cur *Stats
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		t := sc.Text()
		switch {
		case t == statsBegin:
			out = append(out, Stats{})
			cur = &out[len(out)-1]
			continue
		case t == statsEnd:
			cur = nil
			continue
		case cur == nil:
			continue // other log lines
		}
		k, v, ok := strings.Cut(t, ": ")
		if !ok {
			return nil, fmt.Errorf("vmmalloc: stats line %d: %q is no \"name: value\"", line, t)
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("vmmalloc: stats line %d: %s: %w", line, k, err)
		}
		if f := cur.field(k); f != nil {
			*f = n
		}
		switch k {
		case "pid":
			cur.PID = int(n)
		case "fork_mode":
			cur.ForkMode = int(n)
		case "private":
			cur.Private = n != 0
		case "thread_caches":
			cur.ThreadCaches = int(n)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if cur != nil {
		return nil, fmt.Errorf("vmmalloc: stats block of pid %d not ended", cur.PID)
	}
	return out, nil
}

// field returns the int64 field named k in the dump, or nil (names the
// parser keeps elsewhere, or that a newer shim added).
func (s *Stats) field(k string) *int64 {
	switch k {
	case "pool_size":
		return &s.PoolSize
	case "page_size":
		return &s.PageSize
	case "allocated":
		return &s.Allocated
	case "allocations":
		return &s.Allocations
	case "small_allocs":
		return &s.SmallAllocs
	case "small_frees":
		return &s.SmallFrees
	case "large_allocs":
		return &s.LargeAllocs
	case "large_frees":
		return &s.LargeFrees
	case "active":
		return &s.Active
	case "peak_active":
		return &s.PeakActive
	case "slab_bytes":
		return &s.SlabBytes
	case "slabs":
		return &s.Slabs
	case "cached_objects":
		return &s.CachedObjects
	case "large_bytes":
		return &s.LargeBytes
	case "free":
		return &s.Free
	case "largest_free":
		return &s.LargestFree
	case "released":
		return &s.Released
	case "released_total":
		return &s.ReleasedTotal
	case "file_resident":
		return &s.FileResident
	case "double_frees":
		return &s.DoubleFrees
	}
	return nil
}
