// Package rpmem is librpmem's job in Go: remote replicas of local pools,
// over rpma (TCP with TLS), and the daemon side that serves them
// (rpmemd, tools/cmd/rpmemd, is [Server] with flags).
//
// # Client
//
// Importing the package registers it with core/pool (pool.RegisterRemote),
// as a database/sql driver registers itself:
//
//	import _ "github.com/gopmdk/pmdk/rpma/rpmem"
//
// From then on log, blk and obj pools open and create on poolsets with a
// remote replica line, C's syntax:
//
//	PMEMPOOLSET
//	16M /pools/local.part
//	REPLICA [user@]host[:port] remote.set
//
// The node is [user@]host[:port] (the port defaults to [DefaultPort];
// the user, which C hands to ssh, is ignored: there is no ssh here, rpmemd
// listens itself), the descriptor the poolset file on the node, relative
// to rpmemd's poolset directory. Every persist of the pool reaches the
// remote replica before it returns: core.Replicate copies it into the
// replica's Map, whose persist path writes the range to rpmemd (rpma
// Write) and flushes it to persistence there (rpma Flush, persistent),
// waiting for the answer. The replica's Map keeps a local copy of the
// remote pool (read at open: memory the size of the pool), against which
// Open compares: a remote header not linked to the local set is refused,
// data that lags the primary is copied from it. pool.SyncRemote (`pmempool
// sync`) rebuilds a remote replica whose header or part files are
// damaged or missing.
//
// Credentials and timeouts come from [SetDefault], or else from the
// environment ([ConfigFromEnv]): $RPMEM_PSK_FILE (a pre-shared key, the
// same file rpmemd reads), or $RPMEM_CERT, $RPMEM_KEY and $RPMEM_CA (a
// certificate pair and the authority of rpmemd's certificate), and
// $RPMEM_TIMEOUT (10 s by default). The timeout bounds every wait: the
// connection, the read at open, each persist. A node that is lost or
// does not answer in time fails the replica: the pool's Map reports it
// (core.Map.Err wraps core.ErrPersist), log, blk and obj refuse the write
// in progress and the later ones, and Close returns the failure and
// leaves the pool's shutdown state dirty. The replica then lags the
// primary: the next Open repairs it, or pool.SyncRemote does.
//
// # Server (rpmemd)
//
// A [Server] listens (TLS with a certificate pair, or a pre-shared key:
// rpma never runs in the clear) and serves each connection one pool: it
// parses the poolset file the descriptor names (one replica; one part,
// or several with OPTION NOHDRS or SINGLEHDR, mapped whole one after the
// other: the pool header, which the client writes as C's local side
// does, with the UUID links of the local set, is at the start of the
// first part), opens and locks its part files (a create or a rebuild
// creates the missing ones, and removes them again if the client leaves
// with the pool header still zero: a failed create), maps them and registers the mapping as an
// rpma region the client may read, write and flush to persistence, which
// rpmemd does through core's persist path (CPU flush on DAX, msync on the
// page cache). Descriptors are paths inside the poolset directory; others
// are refused. Refusals reach the client as [ErrRemote] with rpmemd's
// reason.
//
// # Differences from librpmem
//
//   - No ssh: rpmemd runs as a daemon and authenticates clients by TLS;
//     C's rpmemd is started by ssh per connection.
//   - The wire protocol is rpma's TCP framing, not librpmem's over
//     libfabric; C and Go peers do not talk to each other.
//   - The remote header carries no shutdown state (as C) and is written
//     by the client through the replication path, not by rpmemd from
//     pool attributes.
//   - One lane: persists are serialised per replica (C spreads them
//     over lanes).
package rpmem
