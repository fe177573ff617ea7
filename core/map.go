package core

// Map is a mapping of persistent memory (or of memory standing in for it)
// with its persist path. The slice from [Map.Bytes] is valid until Close.
type Map struct {
	data        []byte
	granularity Granularity
	persist     Persister
	close       func() error
	closed      bool
	info        *mapInfo // nil for NewMemoryMap
}

// mapInfo is what a Map made by NewMap or MapFile knows of its source.
type mapInfo struct {
	src        Source // fd is -1: the descriptor belongs to the caller
	offset     int64
	sharing    Sharing
	mapSync    bool
	isPmem     bool
	extents    []extent // file extents when the file is on an NVDIMM namespace
	extentsErr error    // why they could not be read, if so
}

// NewMemoryMap wraps memory the caller owns and persists through p. It is
// how the crash simulator and replicated persist paths present themselves
// as an ordinary Map. closeFn, if not nil, runs once on Close.
func NewMemoryMap(data []byte, g Granularity, p Persister, closeFn func() error) *Map {
	return &Map{data: data, granularity: g, persist: p, close: closeFn}
}

// Bytes returns the mapped memory. It is valid until Close.
func (m *Map) Bytes() []byte { return m.data }

// Size returns the length of the mapping in bytes.
func (m *Map) Size() int { return len(m.data) }

// Granularity returns the effective store granularity of the mapping.
func (m *Map) Granularity() Granularity { return m.granularity }

// Persister returns the persist path of the mapping.
func (m *Map) Persister() Persister { return m.persist }

// Persist makes b, a part of the mapping, persistent (flush and drain).
func (m *Map) Persist(b []byte) {
	if checkRanges {
		m.mustContain(b)
	}
	m.persist.Persist(b)
}

// Flush starts writing back b, a part of the mapping; Drain waits for it.
func (m *Map) Flush(b []byte) {
	if checkRanges {
		m.mustContain(b)
	}
	m.persist.Flush(b)
}

// Drain waits for every earlier Flush and non-temporal store to complete.
func (m *Map) Drain() { m.persist.Drain() }

// Memmove copies src into dst (a part of the mapping) and persists it.
func (m *Map) Memmove(dst, src []byte, flags MemFlags) {
	if checkRanges {
		m.mustContain(dst[:min(len(src), len(dst))])
	}
	m.persist.Memmove(dst, src, flags)
}

// Memcpy is Memmove for slices known not to overlap.
func (m *Map) Memcpy(dst, src []byte, flags MemFlags) {
	if checkRanges {
		m.mustContain(dst[:min(len(src), len(dst))])
	}
	m.persist.Memmove(dst, src, flags)
}

// Memset fills dst (a part of the mapping) with c and persists it.
func (m *Map) Memset(dst []byte, c byte, flags MemFlags) {
	if checkRanges {
		m.mustContain(dst)
	}
	m.persist.Memset(dst, c, flags)
}

// Close releases the mapping. It is idempotent.
func (m *Map) Close() error {
	if m.closed {
		return nil
	}
	m.closed = true
	if m.close != nil {
		return m.close()
	}
	return nil
}

// mustContain panics unless b lies in the mapping: persisting memory of
// another mapping through this one is a caller bug ([checkRanges] builds).
func (m *Map) mustContain(b []byte) {
	if !m.contains(b) {
		panic("core: slice outside the mapping passed to a Map persist method")
	}
}
