package rpma

import (
	"context"
	"fmt"
	"sync"
)

// Flags ask for completions (RPMA_F_COMPLETION_*). Every operation
// completes on error; with CompletionAlways it completes on success too.
type Flags uint8

// The flags.
const (
	CompletionOnError Flags = 1 << iota // completion only on error (RPMA_F_COMPLETION_ON_ERROR)
	CompletionAlways                    // completion whatever the result (RPMA_F_COMPLETION_ALWAYS)
)

// Op is the operation a completion is of.
type Op uint8

// The operations. verbs reports an atomic write as a write and a flush as
// a read (librpma flushes with a read); here each has its own.
const (
	OpRead Op = iota + 1
	OpWrite
	OpAtomicWrite
	OpFlush
	OpSend
	OpRecv
)

func (o Op) String() string {
	switch o {
	case OpRead:
		return "read"
	case OpWrite:
		return "write"
	case OpAtomicWrite:
		return "atomic write"
	case OpFlush:
		return "flush"
	case OpSend:
		return "send"
	case OpRecv:
		return "recv"
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// Status is the result of an operation, as ibv_wc_status.
type Status uint8

// The statuses.
const (
	StatusSuccess              Status = iota // IBV_WC_SUCCESS
	StatusLocalLength                        // IBV_WC_LOC_LEN_ERR: a message longer than the receive buffer
	StatusLocalProtection                    // IBV_WC_LOC_PROT_ERR: local region deregistered meanwhile
	StatusRemoteAccess                       // IBV_WC_REM_ACCESS_ERR: unknown remote region, outside it, or against its usages
	StatusRemoteInvalidRequest               // IBV_WC_REM_INV_REQ_ERR: a message the other side could not take
	StatusRemoteOperation                    // IBV_WC_REM_OP_ERR: the other side failed to persist
	StatusRNRRetryExceeded                   // IBV_WC_RNR_RETRY_EXC_ERR: no receive posted, and too many messages queued
	StatusFlushed                            // IBV_WC_WR_FLUSH_ERR: the connection ended before the operation did
	StatusRetryExceeded                      // IBV_WC_RETRY_EXC_ERR (verbs only): the other side stopped acknowledging
	StatusGeneral                            // any other ibv_wc_status (verbs only)
	statusCount
)

func (s Status) String() string {
	names := [...]string{"success", "local length error", "local protection error", "remote access error",
		"remote invalid request", "remote operation error", "receiver not ready", "flushed",
		"transport retry exceeded", "general error"}
	if int(s) < len(names) {
		return names[s]
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// Completion is one completed operation (struct ibv_wc's fields librpma
// users read).
type Completion struct {
	Op      Op
	Status  Status
	Context any    // the op_context given when posting
	Len     uint32 // bytes received (OpRecv)
}

// CQ is a completion queue (rpma_cq): the main CQ of a connection, or its
// receive CQ. Wait and Get may be called concurrently.
type CQ struct {
	conn   *Conn
	size   int
	mu     sync.Mutex
	q      []Completion
	dead   bool
	notify chan struct{} // capacity 1: completions arrived
	shared bool
}

func newCQ(c *Conn, size int, notify chan struct{}) *CQ {
	return &CQ{conn: c, size: size, notify: notify}
}

// push adds a completion; false if the CQ is full (an overrun).
func (q *CQ) push(wc Completion) bool {
	q.mu.Lock()
	if len(q.q) >= q.size {
		q.mu.Unlock()
		return false
	}
	q.q = append(q.q, wc)
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
	return true
}

func (q *CQ) kill() {
	q.mu.Lock()
	q.dead = true
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// Wait blocks until the CQ holds a completion (rpma_cq_wait), ctx ends
// (its error), or the connection ended and the CQ is empty (ErrClosed).
// A CQ of a shared completion channel is waited on with [Conn.Wait]
// instead (ErrNotSupported here).
func (q *CQ) Wait(ctx context.Context) error {
	if q.shared {
		return ErrNotSupported
	}
	return waitAny(ctx, q.notify, q)
}

func waitAny(ctx context.Context, notify chan struct{}, qs ...*CQ) error {
	for {
		dead := true
		for _, q := range qs {
			if q == nil {
				continue
			}
			q.mu.Lock()
			n, d := len(q.q), q.dead
			q.mu.Unlock()
			if n > 0 {
				return nil
			}
			dead = dead && d
		}
		if dead {
			return ErrClosed
		}
		select {
		case <-notify:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (q *CQ) ready() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.q) > 0
}

// Get moves up to len(wc) completions into wc and returns how many
// (rpma_cq_get_wc); ErrNoCompletion when there are none.
func (q *CQ) Get(wc []Completion) (int, error) {
	if len(wc) == 0 {
		return 0, ErrInvalid
	}
	q.mu.Lock()
	n := copy(wc, q.q)
	rest := copy(q.q, q.q[n:])
	clear(q.q[rest:])
	q.q = q.q[:rest]
	dead := q.dead
	q.mu.Unlock()
	if n == 0 {
		if dead {
			return 0, ErrClosed
		}
		return 0, ErrNoCompletion
	}
	return n, nil
}

// Next waits for one completion and returns it: Wait then Get of one.
func (q *CQ) Next(ctx context.Context) (Completion, error) {
	var wc [1]Completion
	for {
		if _, err := q.Get(wc[:]); err == nil {
			return wc[0], nil
		} else if err != ErrNoCompletion {
			return Completion{}, err
		}
		var err error
		if q.shared {
			_, err = q.conn.Wait(ctx)
		} else {
			err = q.Wait(ctx)
		}
		if err != nil {
			return Completion{}, err
		}
	}
}
