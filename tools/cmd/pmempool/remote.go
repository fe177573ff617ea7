package main

// Remote replicas (REPLICA host descriptor lines): sync rebuilds them
// through rpmemd, with the credentials of $RPMEM_PSK_FILE or $RPMEM_CERT,
// $RPMEM_KEY and $RPMEM_CA (see package rpma/rpmem).
import _ "github.com/gopmdk/pmdk/rpma/rpmem"
