package hal

// StoreRelease64 stores v at *p with release ordering and no more: no
// load or store before it in program order is seen after it, but unlike
// atomic.StoreUint64 (XCHG on amd64, a full fence that waits for the
// store buffer to drain) it does not wait for earlier stores to reach the
// cache. On amd64 it is a plain MOV, a release under x86's ordering; in
// builds without assembly, on other architectures and under the race
// detector (which must see the synchronisation) it is atomic.StoreUint64.
// Other goroutines must load *p atomically.
//
// It is for ending a section that other threads wait to see end, when
// nothing after the store has to wait for it: blk ends each read so,
// where the fence would cost the read a fifth of its time.
func StoreRelease64(p *uint64, v uint64) { storeRelease64(p, v) }
