package kv

// blackhole is pmemkv's blackhole engine: puts succeed and are dropped,
// gets find nothing, removes succeed, counts are zero.
type blackhole struct{}

var _ sorted = blackhole{}

func (blackhole) get([]byte, func([]byte)) error                        { return ErrNotFound }
func (blackhole) put(_, _ []byte) error                                 { return nil }
func (blackhole) remove([]byte) error                                   { return nil }
func (blackhole) countAll() (int, error)                                { return 0, nil }
func (blackhole) getAll(func(k, v []byte) bool) error                   { return nil }
func (blackhole) apply([]batchOp) error                                 { return nil }
func (blackhole) close() error                                          { return nil }
func (blackhole) ascend(keyRange, func(k, v []byte) bool) error         { return nil }
func (blackhole) seek([]byte, seekDir, func(k, v []byte)) (bool, error) { return false, nil }
