package vmem

// maxCacheCap bounds cacheCap, so the slow paths can batch on the stack.
const maxCacheCap = 128

// A pcache is one P's cache of free small objects, a stack per class. Its
// P reaches it pinned (procPin, hal.ProcPin), so no other goroutine runs
// there meanwhile and no lock is needed; race builds guard it with a mutex
// instead of pinning (race.go), which the race detector understands.
type pcache struct {
	raceLock
	bins   []cbin
	allocs uint64 // small allocations served through this P
	frees  uint64
	bytes  int64  // bytes (class sizes) allocated minus freed through this P
	gen    uint32 // the pool's drainGen when this cache last drained
	_      [64]byte
}

type cbin struct {
	objs []uintptr // addresses of free objects; cap is the class's cacheCap
}

func (p *Pool) initCaches(nproc int) {
	p.caches = make([]pcache, nproc)
	for i := range p.caches {
		c := &p.caches[i]
		c.bins = make([]cbin, nclass)
		for k := 1; k < nclass; k++ {
			c.bins[k].objs = make([]uintptr, 0, cacheCap(k))
		}
	}
}

// mallocSmall returns the address of a free object of class c.
func (p *Pool) mallocSmall(c int) (uintptr, bool) {
	pid := procPin()
	if pid < len(p.caches) {
		pc := &p.caches[pid]
		pc.lock()
		b := &pc.bins[c]
		if n := len(b.objs); n > 0 && pc.gen == p.drainGen.Load() {
			a := b.objs[n-1]
			b.objs = b.objs[:n-1]
			pc.allocs++
			pc.bytes += int64(classSize[c])
			pc.unlock()
			procUnpin()
			return a, true
		}
		pc.unlock()
	}
	procUnpin()
	p.drainIfAsked()
	return p.mallocSlow(c)
}

// mallocSlow refills the caller's cache with half its capacity from the
// class's slabs and returns one of the objects.
func (p *Pool) mallocSlow(c int) (uintptr, bool) {
	var buf [maxCacheCap]uintptr
	want := max(cacheCap(c)/2, 1)
	n := p.refill(c, buf[:want])
	if n == 0 {
		return 0, false
	}
	a := buf[n-1]
	rest := buf[:n-1]
	pid := procPin()
	if pid < len(p.caches) {
		pc := &p.caches[pid]
		pc.lock()
		b := &pc.bins[c]
		k := min(len(rest), cap(b.objs)-len(b.objs))
		b.objs = append(b.objs, rest[:k]...)
		rest = rest[k:]
		pc.allocs++
		pc.bytes += int64(classSize[c])
		pc.unlock()
		procUnpin()
	} else {
		procUnpin()
		p.uncached.add(1, 0, int64(classSize[c]))
	}
	if len(rest) > 0 {
		p.flush(c, rest)
	}
	return a, true
}

// freeSmall gives the object at a, of class c, back.
func (p *Pool) freeSmall(c int, a uintptr) {
	pid := procPin()
	if pid < len(p.caches) {
		pc := &p.caches[pid]
		pc.lock()
		b := &pc.bins[c]
		pc.frees++
		pc.bytes -= int64(classSize[c])
		if len(b.objs) < cap(b.objs) && pc.gen == p.drainGen.Load() {
			b.objs = append(b.objs, a)
			pc.unlock()
			procUnpin()
			return
		}
		// Full: the older half goes back to the slabs.
		var buf [maxCacheCap]uintptr
		h := len(b.objs) / 2
		n := copy(buf[:], b.objs[:h])
		copy(b.objs, b.objs[h:])
		b.objs = append(b.objs[:len(b.objs)-h], a)
		pc.unlock()
		procUnpin()
		p.flush(c, buf[:n])
		p.drainIfAsked()
		return
	}
	procUnpin()
	p.uncached.add(0, 1, -int64(classSize[c]))
	p.flush(c, []uintptr{a})
}

// drainCache returns every cached object of the caller's P to the slabs
// and every empty slab to the page heap: what memory running out does, so
// that cached objects and kept slabs can merge into extents again. The
// caches of other Ps keep theirs.
func (p *Pool) drainCache() {
	defer p.trimEmptySlabs()
	p.drainGen.Add(1)
	p.drainOwn()
}

// drainIfAsked drains the caller's P's cache if a drain was asked since it
// last drained: how the caches of other Ps give their objects back after
// memory ran out, at their next call that misses its cache.
func (p *Pool) drainIfAsked() {
	asked := false
	pid := procPin()
	if pid < len(p.caches) {
		pc := &p.caches[pid]
		pc.lock()
		asked = pc.gen != p.drainGen.Load()
		pc.unlock()
	}
	procUnpin()
	if asked {
		p.drainOwn()
	}
}

// drainOwn returns the objects cached by the caller's P to the slabs.
func (p *Pool) drainOwn() {
	for c := 1; c < nclass; c++ {
		var buf [maxCacheCap]uintptr
		pid := procPin()
		if pid >= len(p.caches) {
			procUnpin()
			return
		}
		pc := &p.caches[pid]
		pc.lock()
		pc.gen = p.drainGen.Load()
		b := &pc.bins[c]
		n := copy(buf[:], b.objs)
		b.objs = b.objs[:0]
		pc.unlock()
		procUnpin()
		if n > 0 {
			p.flush(c, buf[:n])
		}
	}
}
