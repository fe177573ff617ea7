package rpmem

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/gopmdk/pmdk/core/pool"
	"github.com/gopmdk/pmdk/rpma"
)

// DefaultPort is the TCP port of a node named without one.
const DefaultPort = "7636"

// The private data of a connection request (client to rpmemd):
//
//	0      version (1)
//	1      mode (pool.RemoteMode: open, create, rebuild)
//	2      flags (1: read-only)
//	3..11  the replica's size in bytes, little-endian
//	11..   the poolset descriptor (its path under rpmemd's poolset directory)
//
// and of the answer (rpmemd to client): a status byte, then on success
// the region's descriptor and rpmemd's peer configuration descriptor, on
// failure the reason as text.
const (
	protoVersion   = 1
	reqHeader      = 11
	maxDescriptor  = rpma.MaxPrivateData - reqHeader
	statusOK       = 0
	statusFailed   = 1
	flagReadOnly   = 1
	respOKSize     = 1 + rpma.MRDescriptorSize + 2
	maxRespMessage = rpma.MaxPrivateData - 1
)

// ErrRemote is a refusal by rpmemd (the pool set descriptor is unknown,
// its parts are missing or locked, too small...): the error text is the
// daemon's.
var ErrRemote = errors.New("rpmemd refused")

type request struct {
	mode       pool.RemoteMode
	readOnly   bool
	size       int64
	descriptor string
}

func (r *request) encode() ([]byte, error) {
	if len(r.descriptor) == 0 || len(r.descriptor) > maxDescriptor {
		return nil, fmt.Errorf("rpmem: pool set descriptor of %d bytes (1 to %d): %w", len(r.descriptor), maxDescriptor, rpma.ErrInvalid)
	}
	b := make([]byte, reqHeader, reqHeader+len(r.descriptor))
	b[0], b[1] = protoVersion, byte(r.mode)
	if r.readOnly {
		b[2] = flagReadOnly
	}
	binary.LittleEndian.PutUint64(b[3:], uint64(r.size))
	return append(b, r.descriptor...), nil
}

func decodeRequest(b []byte) (*request, error) {
	if len(b) <= reqHeader || len(b) > reqHeader+maxDescriptor || b[0] != protoVersion || b[1] > byte(pool.RemoteRebuild) || b[2]&^flagReadOnly != 0 {
		return nil, fmt.Errorf("malformed request of %d bytes", len(b))
	}
	size := binary.LittleEndian.Uint64(b[3:])
	if size == 0 || size > 1<<50 {
		return nil, fmt.Errorf("request for %d bytes", size)
	}
	return &request{mode: pool.RemoteMode(b[1]), readOnly: b[2]&flagReadOnly != 0, size: int64(size), descriptor: string(b[reqHeader:])}, nil
}

// nodeAddr turns a node as a poolset names it, [user@]host[:port], into
// a TCP address; the user, which C passes to ssh, is ignored.
func nodeAddr(node string) (string, error) {
	if i := strings.LastIndexByte(node, '@'); i >= 0 {
		node = node[i+1:]
	}
	if node == "" {
		return "", fmt.Errorf("rpmem: empty node: %w", rpma.ErrInvalid)
	}
	if host, port, err := net.SplitHostPort(node); err == nil {
		if host == "" || port == "" {
			return "", fmt.Errorf("rpmem: node %q: %w", node, rpma.ErrInvalid)
		}
		return node, nil
	}
	return net.JoinHostPort(strings.Trim(node, "[]"), DefaultPort), nil
}
