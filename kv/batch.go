package kv

import "fmt"

// Batch collects writes that Commit applies as one atomic update: in a
// persistent engine one obj transaction, so after a crash all of them
// are there or none (pmemkv's tx, which pmemkv offers for radix; here
// stree, vsmap, vcmap and blackhole have it too, and cmap, as in pmemkv,
// does not: its Commit is [ErrNotSupported]). A Batch is for one
// goroutine.
type Batch struct {
	db   *DB
	ops  []batchOp
	done bool
}

// Begin starts a batch (pmemkv_tx_begin).
func (db *DB) Begin() (*Batch, error) {
	if db.closed.Load() {
		return nil, ErrClosed
	}
	return &Batch{db: db}, nil
}

func (b *Batch) add(op batchOp) error {
	if b.done {
		return fmt.Errorf("%w: batch already ended", ErrTransactionScope)
	}
	b.ops = append(b.ops, op)
	return nil
}

// Put adds a put of copies of key and value.
func (b *Batch) Put(key, value []byte) error {
	return b.add(batchOp{key: append([]byte(nil), key...), value: append([]byte(nil), value...)})
}

// Remove adds a removal of key; a key that is not there at Commit is no
// error (pmemkv_tx_remove).
func (b *Batch) Remove(key []byte) error {
	return b.add(batchOp{key: append([]byte(nil), key...), del: true})
}

// Commit applies the writes, in order, atomically (pmemkv_tx_commit). An
// error leaves none of them applied; the batch ends either way.
func (b *Batch) Commit() error {
	if b.done {
		return fmt.Errorf("%w: batch already ended", ErrTransactionScope)
	}
	b.done = true
	if err := b.db.enter(); err != nil {
		return err
	}
	defer b.db.leave()
	if len(b.ops) == 0 {
		return nil
	}
	return b.db.e.apply(b.ops)
}

// Abort drops the writes (pmemkv_tx_abort).
func (b *Batch) Abort() {
	b.done = true
	b.ops = nil
}

// Update runs fn with a new batch and commits it if fn returns nil.
func (db *DB) Update(fn func(*Batch) error) error {
	b, err := db.Begin()
	if err != nil {
		return err
	}
	if err := fn(b); err != nil {
		b.Abort()
		return err
	}
	return b.Commit()
}
