package core

// Map is a mapping of persistent memory (or of memory standing in for it)
// with its persist path. The slice from [Map.Bytes] is valid until Close.
// The persist methods return nothing: where persisting can fail (msync of
// a page-cache mapping), [Map.Err] reports the first failure.
type Map struct {
	data        []byte
	granularity Granularity
	persist     Persister
	mayFail     bool // persist is not a cpuPersister, whose Err is always nil
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
	_, cpu := p.(cpuPersister)
	return &Map{data: data, granularity: g, persist: p, mayFail: !cpu, close: closeFn}
}

// Bytes returns the mapped memory. It is valid until Close.
func (m *Map) Bytes() []byte { return m.data }

// Size returns the length of the mapping in bytes.
func (m *Map) Size() int { return len(m.data) }

// Granularity returns the effective store granularity of the mapping.
func (m *Map) Granularity() Granularity { return m.granularity }

// Persister returns the persist path of the mapping.
func (m *Map) Persister() Persister { return m.persist }

// Err returns the first failure of the mapping's persist path to make
// data durable (an error wrapping [ErrPersist] and msync's errno), or nil.
// Only page-cache mappings (msync) can fail; on them a persist method that
// returns normally may have failed, so a caller that must know checks Err
// afterwards, as the libraries do after each write. The failure stays: the
// data of the failed write-back may be lost even though later write-backs
// succeed, so no write to the mapping can be trusted any more. The persist
// methods go on trying. Err may be called concurrently with them.
func (m *Map) Err() error {
	if !m.mayFail {
		return nil
	}
	return m.persist.Err()
}

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

// Close releases the mapping. It returns the persist path's failure
// ([Map.Err]) if there was one, as closing a file reports a failed
// delayed write, else the error of releasing the mapping. It is idempotent:
// later calls return nil.
func (m *Map) Close() error {
	if m.closed {
		return nil
	}
	m.closed = true
	err := m.Err()
	if m.close != nil {
		if cerr := m.close(); err == nil {
			err = cerr
		}
	}
	return err
}

// mustContain panics unless b lies in the mapping: persisting memory of
// another mapping through this one is a caller bug ([checkRanges] builds).
func (m *Map) mustContain(b []byte) {
	if !m.contains(b) {
		panic("core: slice outside the mapping passed to a Map persist method")
	}
}
