package crashsim

// pendingSet holds the lines flushed since the last fence with their
// content at each flush, in flush order. One flat slice and an index keep a
// flush free of allocations once the slice has grown.
type pendingSet struct {
	entries []pendingEntry
	// last, by line number, is 1 + the index of the line's latest entry,
	// or 0. It has one slot per line of the device, made on first use.
	last []int32
}

type pendingEntry struct {
	line int
	prev int32 // index of the previous entry of the same line, or -1
	snap [lineSize]byte
}

// add records the content of line in mem, unless it equals the line's
// latest recorded content.
func (p *pendingSet) add(mem []byte, line int) {
	if p.last == nil {
		p.last = make([]int32, len(mem)/lineSize)
	}
	prev := p.last[line/lineSize] - 1
	ok := prev >= 0
	p.entries = append(p.entries, pendingEntry{line: line, prev: prev})
	e := &p.entries[len(p.entries)-1]
	copy(e.snap[:], mem[line:line+lineSize])
	if ok && p.entries[prev].snap == e.snap {
		p.entries = p.entries[:len(p.entries)-1]
		return
	}
	p.last[line/lineSize] = int32(len(p.entries))
}

func (p *pendingSet) has(line int) bool {
	return p.last != nil && p.last[line/lineSize] != 0
}

func (p *pendingSet) empty() bool { return len(p.entries) == 0 }

// versions returns the recorded contents of line, oldest first: the latest
// maxSnapshots of them.
func (p *pendingSet) versions(line int) [][lineSize]byte {
	if !p.has(line) {
		return nil
	}
	i := p.last[line/lineSize] - 1
	var vs [][lineSize]byte
	for ; i >= 0 && len(vs) < maxSnapshots; i = p.entries[i].prev {
		vs = append(vs, p.entries[i].snap)
	}
	for l, r := 0, len(vs)-1; l < r; l, r = l+1, r-1 {
		vs[l], vs[r] = vs[r], vs[l]
	}
	return vs
}

// drainTo makes every recorded line durable with its latest content and
// empties the set.
func (p *pendingSet) drainTo(durable []byte) {
	for i := range p.entries {
		e := &p.entries[i]
		copy(durable[e.line:e.line+lineSize], e.snap[:])
	}
	p.reset()
}

func (p *pendingSet) reset() {
	for i := range p.entries {
		p.last[p.entries[i].line/lineSize] = 0
	}
	p.entries = p.entries[:0]
}
