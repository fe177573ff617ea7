//go:build !amd64 || race

package vmemcache

// optimistic is false: every get takes its shard's lock (see
// Cache.getOptimistic).
const optimistic = false
