//go:build amd64 && gc && !purego && !race

package hal

//go:noescape
func storeRelease64(p *uint64, v uint64)
