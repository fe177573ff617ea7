package pmempool

import (
	"fmt"

	"github.com/gopmdk/pmdk/core/pool"
)

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// checksumSkip is the Fletcher-64 of b with the 8 bytes at csumOff as zero.
func checksumSkip(b []byte, csumOff int) uint64 { return pool.Checksum(b, csumOff, 0) }
