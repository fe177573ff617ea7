//go:build !(verbs && cgo)

package rpma

import (
	"context"
	"fmt"
	"net"
)

// Without -tags verbs (and cgo) there is no verbs transport: NewPeer
// refuses PeerOptions.RDMAAddr, so none of these is ever made.

type verbsPeer struct{}
type verbsMR struct{ desc []byte }
type verbsEP struct{ addr net.Addr }
type verbsReq struct{ conn *verbsConn }
type verbsConn struct{}

func newVerbsPeer(*PeerOptions) (*Peer, error) {
	return nil, fmt.Errorf("rpma: PeerOptions.RDMAAddr in a build without -tags verbs (or without cgo): %w", ErrNotSupported)
}

func (*verbsPeer) register(*MR) error                      { return ErrNotSupported }
func (*verbsPeer) listen(*Peer, string) (*Endpoint, error) { return nil, ErrNotSupported }
func (*verbsPeer) newConnReq(*Peer, string, ConnConfig) (*ConnReq, error) {
	return nil, ErrNotSupported
}
func (*verbsMR) deregister() error { return ErrNotSupported }
func (*verbsEP) next(context.Context, *Endpoint, ConnConfig) (*ConnReq, error) {
	return nil, ErrNotSupported
}
func (*verbsEP) shutdown() error { return ErrNotSupported }
func (*verbsReq) connect(context.Context, *ConnReq, []byte) (*Conn, error) {
	return nil, ErrNotSupported
}
func (*verbsReq) delete() error                             { return ErrNotSupported }
func (*verbsConn) post(*pending, outFrame, *RemoteMR) error { return ErrNotSupported }
func (*verbsConn) recv(*pending) error                      { return ErrNotSupported }
func (*verbsConn) disconnect(error) error                   { return ErrNotSupported }
func (*verbsConn) close() error                             { return ErrNotSupported }

// verbsBuilt tells whether the verbs transport is built in.
const verbsBuilt = false

func verbsDeviceNames() []string { return nil }
