package pmempool

import "github.com/gopmdk/pmdk/core/pool"

// syncRemote is Sync of a poolset with remote replicas: pool.SyncRemote
// rebuilds them from the primary (the local replicas must be healthy).
// It needs a remote transport registered (the pmempool command imports
// rpma/rpmem); without one it fails with pool.ErrRemoteReplica.
func syncRemote(path string, o SyncOptions) error {
	_, err := pool.SyncRemote(path, o.DryRun)
	return err
}
