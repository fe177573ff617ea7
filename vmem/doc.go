// Package vmem will be libvmem for Go: volatile memory pools on persistent
// memory (or any file system), with vmemcache, an extent cache, in package
// vmem/vmemcache. Work in progress: nothing here is usable yet.
package vmem
