package rpma

import "errors"

// Errors of configuration and setup.
var (
	// ErrInvalid is an argument librpma would refuse with RPMA_E_INVAL:
	// a negative or out-of-range offset or length, a missing flag, a
	// region used against its usages, an unaligned atomic write.
	ErrInvalid = errors.New("rpma: invalid argument")
	// ErrNoSecurity is a peer configured with neither TLS nor a
	// pre-shared key: the TCP transport never runs in the clear.
	ErrNoSecurity = errors.New("rpma: neither TLS nor a pre-shared key configured")
	// ErrNotSupported is an operation the connection cannot perform, as
	// RPMA_E_NOSUPP: a persistent flush without the remote peer's direct
	// write to pmem, a wait on a CQ of a shared completion channel.
	ErrNotSupported = errors.New("rpma: not supported")
	// ErrBusy is a region deregistered while posted operations use it,
	// or a peer closed while regions, connections or endpoints use it.
	ErrBusy = errors.New("rpma: memory region in use")
	// ErrBadDescriptor is a descriptor (of a region or a peer
	// configuration) that does not decode.
	ErrBadDescriptor = errors.New("rpma: malformed descriptor")
)

// Errors of connections.
var (
	// ErrRejected is a connection request the other side deleted
	// (RPMA_CONN_REJECTED).
	ErrRejected = errors.New("rpma: connection rejected")
	// ErrUnreachable is a connection request that found no peer, or
	// none that completed the handshake within the timeout
	// (RPMA_CONN_UNREACHABLE).
	ErrUnreachable = errors.New("rpma: peer unreachable")
	// ErrClosed is a call on a connection, endpoint or peer after it was
	// closed, disconnected or lost.
	ErrClosed = errors.New("rpma: closed")
	// ErrNoCompletion is a CQ polled while it holds no completion
	// (RPMA_E_NO_COMPLETION).
	ErrNoCompletion = errors.New("rpma: no completion")
	// ErrNoEvent is NextEvent on a connection whose last event was
	// already returned.
	ErrNoEvent = errors.New("rpma: no more connection events")
	// ErrProtocol is a frame from the other side that breaks the
	// protocol (unknown operation, wrong length, a response to nothing).
	// The connection is lost.
	ErrProtocol = errors.New("rpma: protocol violation")
	// ErrCQOverrun is a completion that found its CQ full: the
	// connection is lost, as an RDMA queue pair goes to its error state.
	ErrCQOverrun = errors.New("rpma: completion queue overrun")
)
