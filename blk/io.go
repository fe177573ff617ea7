package blk

import (
	"fmt"
	"io"
)

var (
	_ io.ReaderAt = (*Pool)(nil)
	_ io.WriterAt = (*Pool)(nil)
)

// ReadAt reads len(b) bytes at byte offset off of the pool's blocks seen
// as one device of NBlock*BSize bytes, block after block: each block is
// read whole with ReadBlock, so every block's part of b is one version of
// it, but blocks written meanwhile may be seen before or after the write.
// off and len(b) need not be block-aligned. As io.ReaderAt, it returns
// io.EOF when the device ends before b is full, and ErrBlockError (with
// the bytes before that block) for a block in the error state.
func (p *Pool) ReadAt(b []byte, off int64) (n int, err error) {
	if p.closed.Load() {
		return 0, ErrClosed
	}
	if off < 0 {
		return 0, fmt.Errorf("blk: read at %d: %w", off, ErrRange)
	}
	bs := int64(p.bsize)
	var scratch []byte
	for n < len(b) {
		blockno, in := off/bs, off%bs
		if blockno >= p.NBlock() {
			return n, io.EOF
		}
		dst := b[n:]
		if in != 0 || int64(len(dst)) < bs {
			if scratch == nil {
				scratch = make([]byte, bs)
			}
			if err := p.ReadBlock(scratch, blockno); err != nil {
				return n, err
			}
			k := copy(dst, scratch[in:])
			n += k
			off += int64(k)
			continue
		}
		if err := p.ReadBlock(dst[:bs], blockno); err != nil {
			return n, err
		}
		n += int(bs)
		off += bs
	}
	return n, nil
}

// WriteAt writes b at byte offset off of the pool's blocks seen as one
// device of NBlock*BSize bytes: whole blocks only (off and len(b) multiples
// of BSize, else ErrUnaligned), each with WriteBlock. Every block is
// written atomically; a write of several blocks is not atomic as a whole:
// after a crash or an error any prefix of the blocks holds the new data.
// It fails with ErrRange for blocks past the end of the device, writing
// none of them.
func (p *Pool) WriteAt(b []byte, off int64) (n int, err error) {
	if p.closed.Load() {
		return 0, ErrClosed
	}
	bs := int64(p.bsize)
	if off < 0 || off%bs != 0 || int64(len(b))%bs != 0 {
		return 0, fmt.Errorf("blk: write of %d bytes at %d, %d-byte blocks: %w", len(b), off, bs, ErrUnaligned)
	}
	if end := off/bs + int64(len(b))/bs; end > p.NBlock() {
		return 0, fmt.Errorf("blk: write up to block %d of %d: %w", end-1, p.NBlock(), ErrRange)
	}
	for ; n < len(b); n += int(bs) {
		if err := p.WriteBlock(b[n:n+int(bs)], (off+int64(n))/bs); err != nil {
			return n, err
		}
	}
	return n, nil
}
