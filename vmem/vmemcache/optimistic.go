//go:build amd64 && !race

package vmemcache

// optimistic enables Cache.getOptimistic: amd64 does not reorder loads
// with loads, and without the race detector its racing reads are allowed.
const optimistic = true
