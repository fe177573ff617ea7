//go:build amd64 && gc && !purego

package hal_test

import "github.com/gopmdk/pmdk/hal"

func init() {
	for _, m := range []hal.MoveKind{hal.MoveSSE2, hal.MoveAVX, hal.MoveAVX512F} {
		if hal.Supported(hal.FlushNone, m) {
			benchRefs = append(benchRefs, benchRef{
				name: "ntloop-" + m.String(),
				fn:   func(dst, src []byte) { hal.NTStoreLoop(m, dst, src) },
			})
		}
	}
}
