package rpma

import (
	"net"
	"sync"
)

// batchSize is how many bytes of TLS records a connection's writer
// gathers before a system call; readSize is how many bytes its reader
// asks the socket for at once.
const batchSize, readSize = 64 << 10, 256 << 10

// batchConn is the TCP socket under a connection's TLS stream. crypto/tls
// writes every record (at most 16 KiB of data) with its own system call;
// between begin and end (the connection's writer, around a batch of
// frames) the records are gathered instead and written batchSize bytes
// at a time. Outside a batch writes go straight to the socket. The
// records are already sealed: batching changes how the ciphertext is cut
// into system calls, nothing of what is authenticated or encrypted.
//
// Reads are buffered likewise: crypto/tls asks for about one record at a
// time, the socket is read readSize bytes at a time. Only the goroutine
// reading the TLS stream reads it.
type batchConn struct {
	net.Conn
	mu       sync.Mutex
	batching bool
	buf      []byte

	rbuf       []byte
	rpos, rend int
	idle       func() // called before each read of the socket
}

func (b *batchConn) Read(p []byte) (int, error) {
	if b.rpos == b.rend {
		if b.idle != nil {
			b.idle()
		}
		if len(p) >= readSize {
			return b.Conn.Read(p)
		}
		if b.rbuf == nil {
			b.rbuf = make([]byte, readSize)
		}
		n, err := b.Conn.Read(b.rbuf)
		b.rpos, b.rend = 0, n
		if n == 0 {
			return 0, err
		}
	}
	n := copy(p, b.rbuf[b.rpos:b.rend])
	b.rpos += n
	return n, nil
}

func newBatchConn(nc net.Conn) *batchConn { return &batchConn{Conn: nc} }

func (b *batchConn) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.batching || len(p) >= batchSize {
		if err := b.flushLocked(); err != nil {
			return 0, err
		}
		return b.Conn.Write(p)
	}
	if len(b.buf)+len(p) > batchSize {
		if err := b.flushLocked(); err != nil {
			return 0, err
		}
	}
	if b.buf == nil {
		b.buf = make([]byte, 0, batchSize)
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *batchConn) flushLocked() error {
	if len(b.buf) == 0 {
		return nil
	}
	_, err := b.Conn.Write(b.buf)
	b.buf = b.buf[:0]
	return err
}

// begin starts gathering records.
func (b *batchConn) begin() {
	b.mu.Lock()
	b.batching = true
	b.mu.Unlock()
}

// end writes the records gathered and stops gathering.
func (b *batchConn) end() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.batching = false
	return b.flushLocked()
}
