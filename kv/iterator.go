package kv

// Iterator walks a sorted engine in key order, as pmemkv's read_iterator:
// position it with a Seek call, then move with Next and Prev. Each move
// is a lookup in the engine, so the iterator sees writes made between
// moves and never holds a lock. Key and Value are copies, valid until the
// next move.
type Iterator struct {
	db    *DB
	s     sorted
	key   []byte
	value []byte
	valid bool
}

// NewIterator returns an unpositioned iterator ([ErrNotSupported] for an
// unsorted engine).
func (db *DB) NewIterator() (*Iterator, error) {
	s, err := db.sorted()
	if err != nil {
		return nil, err
	}
	return &Iterator{db: db, s: s}, nil
}

func (it *Iterator) seek(key []byte, d seekDir) (bool, error) {
	if err := it.db.enter(); err != nil {
		return false, err
	}
	defer it.db.leave()
	found, err := it.s.seek(key, d, func(k, v []byte) {
		it.key = append(it.key[:0], k...)
		it.value = append(it.value[:0], v...)
	})
	it.valid = found && err == nil
	return it.valid, err
}

// Seek moves to key itself; false if it is not there.
func (it *Iterator) Seek(key []byte) (bool, error) {
	ok, err := it.seek(key, seekGE)
	if ok && string(it.key) != string(key) {
		it.valid = false
		return false, nil
	}
	return ok, err
}

// SeekLower moves to the largest key less than key.
func (it *Iterator) SeekLower(key []byte) (bool, error) { return it.seek(key, seekLT) }

// SeekLowerEq moves to the largest key less than or equal to key.
func (it *Iterator) SeekLowerEq(key []byte) (bool, error) { return it.seek(key, seekLE) }

// SeekHigher moves to the smallest key greater than key.
func (it *Iterator) SeekHigher(key []byte) (bool, error) { return it.seek(key, seekGT) }

// SeekHigherEq moves to the smallest key greater than or equal to key.
func (it *Iterator) SeekHigherEq(key []byte) (bool, error) { return it.seek(key, seekGE) }

// SeekToFirst moves to the smallest key.
func (it *Iterator) SeekToFirst() (bool, error) { return it.seek(nil, seekFirst) }

// SeekToLast moves to the largest key.
func (it *Iterator) SeekToLast() (bool, error) { return it.seek(nil, seekLast) }

// Next moves to the following key; false at the end.
func (it *Iterator) Next() (bool, error) {
	if !it.valid {
		return false, nil
	}
	return it.seek(it.key, seekGT)
}

// Prev moves to the preceding key; false at the start.
func (it *Iterator) Prev() (bool, error) {
	if !it.valid {
		return false, nil
	}
	return it.seek(it.key, seekLT)
}

// Valid reports whether the iterator is on a pair.
func (it *Iterator) Valid() bool { return it.valid }

// Key returns the current key (nil if not Valid).
func (it *Iterator) Key() []byte {
	if !it.valid {
		return nil
	}
	return it.key
}

// Value returns the current value (nil if not Valid).
func (it *Iterator) Value() []byte {
	if !it.valid {
		return nil
	}
	return it.value
}
