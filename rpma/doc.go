// Package rpma implements librpma (remote persistent memory access, the
// API of librpma 1.2, `man 7 librpma`) in Go: peers connect, register
// memory regions with their usages, and read, write, atomically write
// and flush (to visibility or to persistence) each other's regions, or
// exchange messages, collecting the completions of these operations from
// completion queues.
//
// # Transports
//
// RDMA hardware is not needed: the default transport is TCP, each
// operation a frame (see frame.go) that the other side executes in order
// on its registered region, the way an RDMA NIC would. A persistent flush
// makes the other side persist the range through its mapping's persist
// path (core.Map.Persist: a CPU flush on DAX or forced pmem, msync on the
// page cache).
//
// Built with -tags verbs (cgo, rdma-core's libibverbs and librdmacm
// headers), a peer made with [PeerOptions].RDMAAddr, the IP address of an
// RDMA interface, uses verbs instead, through the same API: the RDMA CM
// resolves, connects and accepts (private data framed with its length,
// at most [MaxVerbsConnectData] bytes from a client and
// [MaxVerbsAcceptData] from a server), regions are registered with
// ibv_reg_mr with the access flags their usages need, reads and writes
// are RDMA reads and writes, an atomic write is a fenced inline 8-byte
// RDMA write (as librpma 1.2 does it without native atomic write), a
// flush of either type is an 8-byte RDMA read of the region after the
// writes (librpma's appliance persistency method), messages are sends and
// receives, and completions come from the connection's CQs through their
// completion channels. Over verbs the other side's CPU takes no part: a
// persistent flush is only as persistent as the serving peer's
// DirectWriteToPmem declares (pmem reached without the CPU's caches, e.g.
// DDIO off and ADR), and a region of a page-cache mapping is not msynced.
// A verbs peer registers only memory outside the Go heap: a core.Map
// ([Peer.RegisterMap]) or memory from [AllocMemory]; it has no TLS and
// refuses TLS and PSK options (RDMA traffic is neither encrypted nor
// authenticated, as with librpma; the rkeys and the network isolate it).
// Without -tags verbs, RDMAAddr fails with ErrNotSupported. The verbs
// transport is compiled and unit-tested (everything that needs no device)
// on the machine it was written on, which has no RDMA device; its device
// tests (verbs_test.go) skip where ibv_get_device_list finds none.
//
// # Use
//
// A server listens and hands the descriptor of a region to its client:
//
//	peer, _ := rpma.NewPeer(&rpma.PeerOptions{PSK: key})
//	mr, _ := peer.RegisterMap(m, 0, m.Size(), rpma.UsageWriteDst|rpma.UsageFlushPersistent)
//	ep, _ := peer.Listen("127.0.0.1:7204")
//	req, _ := ep.NextConnReq(ctx, nil)
//	cfg := rpma.PeerConfig{DirectWriteToPmem: true}
//	conn, _ := req.Connect(ctx, append(mr.Descriptor(), cfg.Descriptor()...))
//
// and the client writes and persists:
//
//	req, _ := peer.NewConnReq("127.0.0.1:7204", nil)
//	conn, _ := req.Connect(ctx, nil)
//	dst, _ := rpma.RemoteFromDescriptor(conn.PrivateData()[:rpma.MRDescriptorSize])
//	pc, _ := rpma.PeerConfigFromDescriptor(conn.PrivateData()[rpma.MRDescriptorSize:])
//	conn.ApplyRemotePeerConfig(pc)
//	conn.Write(dst, 0, src, 0, n, rpma.CompletionOnError, nil)
//	conn.Flush(dst, 0, n, rpma.FlushPersistent, rpma.CompletionAlways, nil)
//	wc, _ := conn.CQ().Next(ctx) // wc.Status == rpma.StatusSuccess: persistent there
//
// cmd/rpma-example is this as two processes.
//
// C's API and its equivalent here:
//
//	rpma_peer_new / _delete               NewPeer(opts) (TLS or PSK in opts; RDMAAddr for verbs), Peer.Close (ErrBusy while in use)
//	rpma_utils_get_ibv_context(addr)      PeerOptions.RDMAAddr (-tags verbs)
//	rpma_peer_cfg_* , _get_descriptor     PeerConfig, Descriptor, PeerConfigFromDescriptor
//	rpma_conn_cfg_*                       ConnConfig (timeout, CQ/RCQ/SQ/RQ sizes, shared channel)
//	rpma_ep_listen / _next_conn_req       Peer.Listen, Endpoint.NextConnReq; Endpoint.Shutdown
//	rpma_conn_req_new / _connect / _delete Peer.NewConnReq, ConnReq.Connect, ConnReq.Delete (reject)
//	rpma_conn_req_recv / _get_private_data ConnReq.Recv, ConnReq.PrivateData
//	rpma_conn_next_event                  Conn.NextEvent (established, closed, lost)
//	rpma_conn_disconnect / _delete        Conn.Disconnect, Conn.Close
//	rpma_conn_get_private_data            Conn.PrivateData
//	rpma_conn_apply_remote_peer_cfg       Conn.ApplyRemotePeerConfig
//	rpma_mr_reg / _dereg                  Peer.RegisterMemory, Peer.RegisterMap, MR.Deregister
//	rpma_mr_get_descriptor, _remote_from_descriptor  MR.Descriptor, RemoteFromDescriptor
//	rpma_read / _write / _atomic_write    Conn.Read, Conn.Write, Conn.AtomicWrite
//	rpma_flush                            Conn.Flush(…, FlushPersistent or FlushVisibility, …)
//	rpma_send / _recv                     Conn.Send, Conn.Recv
//	rpma_conn_get_cq / _get_rcq           Conn.CQ, Conn.RCQ
//	rpma_cq_wait / _get_wc, rpma_conn_wait CQ.Wait, CQ.Get (CQ.Next: both), Conn.Wait
//	op_context, struct ibv_wc             the opCtx argument, Completion{Op, Status, Context, Len}
//	RPMA_CONN_REJECTED / _UNREACHABLE     ErrRejected / ErrUnreachable from ConnReq.Connect
//	file descriptors for epoll            none: block in goroutines, bound waits with a context
//
// # Remote replicas
//
// Package rpma/rpmem builds librpmem's remote replicas on this package: a
// poolset line REPLICA host[:port] descriptor makes every persist of a
// log, blk or obj pool a Write and a persistent Flush to a region that
// rpmemd (tools/cmd/rpmemd, rpmem.Server) registered over the replica's
// mapped part files; programs enable it with a blank import of rpmem.
//
// # Security
//
// The TCP transport never runs in the clear: a peer needs a TLS
// configuration (a certificate pair; a server asks for client
// certificates through its tls.Config) or a pre-shared key, from which
// both sides derive one Ed25519 key and run mutually authenticated TLS
// 1.3. A listener finishes the handshake and reads a request's private
// data before offering it to NextConnReq: a peer that presents neither
// a valid certificate nor the key, or is too slow, gets nothing and is
// never seen. A region is addressed by a random 64-bit key that only its
// descriptor carries, and the side that registered it checks every
// access against its bounds and usages: a refused operation completes
// with StatusRemoteAccess at its initiator and touches nothing.
// Malformed frames, wrong lengths and truncated streams lose the
// connection with ErrProtocol or io.ErrUnexpectedEOF, never more.
//
// # Differences from librpma over verbs
//
// The TCP transport differs so (the verbs transport behaves as verbs,
// but also reports OpAtomicWrite and OpFlush, and signals every work
// request so it can release what each held):
//
//   - A post that finds the SQ full waits for room (verbs fails it).
//   - A message that arrives with no receive posted waits in a queue of
//     64 for one (verbs retries for a while, then fails the send with
//     receiver-not-ready; here the 65th queued message does).
//   - A refused operation does not break the connection (a verbs queue
//     pair goes to its error state).
//   - Completions name an atomic write and a flush as such (verbs
//     reports a write and a read).
//   - Memory registered with RegisterMemory should stay referenced by the
//     caller until deregistered; the Go heap does not move it.
//
// # Concurrency
//
// The methods of Peer, Conn, CQ and Endpoint may be called concurrently;
// a ConnReq belongs to one goroutine. Each connection runs a reader and
// a writer goroutine. The memory of a region is read and written by them
// while operations are outstanding, as an RDMA NIC would: the initiator
// must not change a write's source until its completion, and the other
// side sees writes after a flush completes (its own events and
// completions order them for it, and for the race detector).
package rpma
