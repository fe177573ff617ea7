package vmmalloc

import (
	"fmt"
	"strconv"
)

// MinPoolSize is the smallest VMMALLOC_POOL_SIZE the shim accepts:
// VMMALLOC_MIN_POOL of libvmmalloc.h (14 MiB), vmem's MinPoolSize.
const MinPoolSize = 14 << 20

// Fork modes (VMMALLOC_FORK), as libvmmalloc's.
const (
	ForkUnsupported = 0 // nothing is done: parent and child share the pool file (undefined, as in C)
	ForkPrivate     = 1 // the pool is remapped MAP_PRIVATE before the fork: copy-on-write in RAM (the default)
	ForkCopy        = 2 // the child gets a copy of the pool file, mapped at the same address
	ForkCopyOrPriv  = 3 // ForkCopy, or ForkPrivate when the copy cannot be made
)

// Config is the environment of a program run under the preload.
type Config struct {
	Lib      string // the preload library (Build's result)
	PoolDir  string // VMMALLOC_POOL_DIR: where the pool file is created (it has no name there)
	PoolSize int64  // VMMALLOC_POOL_SIZE, at least MinPoolSize
	Fork     int    // VMMALLOC_FORK; -1 leaves it unset (mode 1)
	LogLevel int    // VMMALLOC_LOG_LEVEL: 1 logs errors (out of memory), 2 the pool's creation
	// LogFile is VMMALLOC_LOG_FILE; a name ending in '-' gets each
	// process's pid appended. Empty: stderr.
	LogFile  string
	LogStats bool // VMMALLOC_LOG_STATS: write the statistics at exit
}

// Env returns the variables to add to a program's environment.
func (c Config) Env() []string {
	e := []string{
		"LD_PRELOAD=" + c.Lib,
		"VMMALLOC_POOL_DIR=" + c.PoolDir,
		"VMMALLOC_POOL_SIZE=" + strconv.FormatInt(c.PoolSize, 10),
	}
	if c.Fork >= 0 {
		e = append(e, fmt.Sprintf("VMMALLOC_FORK=%d", c.Fork))
	}
	if c.LogLevel > 0 {
		e = append(e, fmt.Sprintf("VMMALLOC_LOG_LEVEL=%d", c.LogLevel))
	}
	if c.LogFile != "" {
		e = append(e, "VMMALLOC_LOG_FILE="+c.LogFile)
	}
	if c.LogStats {
		e = append(e, "VMMALLOC_LOG_STATS=1")
	}
	return e
}
