package set

import "github.com/gopmdk/pmdk/core"

// AddMemoryPart adds m, memory the test owns (a crash simulator's device,
// say), as a part of a memory-less source: into the previous part map when
// it ends where m starts, else as a new part map.
func AddMemoryPart(s *Set, m *core.Map) *PartMap {
	s.mu.Lock()
	defer s.unlock()
	pm := s.prev
	if pm != nil {
		last := pm.parts[len(pm.parts)-1]
		if last.end() != partAddr(m) {
			pm = nil
		}
	}
	return s.addPart(m, &Source{}, pm)
}
