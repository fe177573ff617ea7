package rpma

import (
	"fmt"
	"time"
)

// ConnConfig is rpma_conn_cfg: the timeout and queue sizes of a
// connection. The zero value, and nil, mean librpma's defaults.
type ConnConfig struct {
	// Timeout bounds establishing the connection (dialling, TLS and the
	// private data exchange); 0 means 1 s.
	Timeout time.Duration
	// CQSize is how many completions the main CQ holds; 0 means 10. A
	// completion that finds it full loses the connection
	// ([ErrCQOverrun]), as a CQ overrun breaks an RDMA queue pair.
	CQSize int
	// RCQSize, if not 0, gives the connection a receive CQ of that size
	// for the completions of receives ([Conn.RCQ]).
	RCQSize int
	// SQSize is how many operations may be outstanding (posted, no
	// response yet); 0 means 10. A post beyond it waits for one to end
	// (verbs fails it instead).
	SQSize int
	// RQSize is how many receives may be posted; 0 means 10. One more is
	// ErrInvalid.
	RQSize int
	// SharedCompletionChannel makes the CQ and the receive CQ share one
	// completion channel: wait with [Conn.Wait], which says which CQ has
	// completions.
	SharedCompletionChannel bool
}

const maxQueueSize = 1 << 16

func (c *ConnConfig) resolve() (ConnConfig, error) {
	r := ConnConfig{Timeout: time.Second, CQSize: 10, SQSize: 10, RQSize: 10}
	if c == nil {
		return r, nil
	}
	for _, v := range []int{c.CQSize, c.RCQSize, c.SQSize, c.RQSize} {
		if v < 0 || v > maxQueueSize {
			return r, fmt.Errorf("rpma: queue size %d: %w", v, ErrInvalid)
		}
	}
	if c.Timeout < 0 {
		return r, fmt.Errorf("rpma: timeout %v: %w", c.Timeout, ErrInvalid)
	}
	if c.Timeout > 0 {
		r.Timeout = c.Timeout
	}
	if c.CQSize > 0 {
		r.CQSize = c.CQSize
	}
	if c.SQSize > 0 {
		r.SQSize = c.SQSize
	}
	if c.RQSize > 0 {
		r.RQSize = c.RQSize
	}
	r.RCQSize = c.RCQSize
	r.SharedCompletionChannel = c.SharedCompletionChannel
	return r, nil
}
