package pool

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
)

// UUID is a UUID as PMDK stores it: libuuid's struct uuid (time_low u32,
// time_mid u16, time_hi_and_version u16, clock_seq and node bytes) with the
// integers little-endian on media.
type UUID [16]byte

// NewUUID returns a random (version 4) UUID, like libuuid's
// uuid_generate_random, in PMDK's on-media byte order.
func NewUUID() UUID {
	var u UUID
	_, _ = rand.Read(u[:])  // crypto/rand.Read never fails (Go 1.24+)
	u[7] = u[7]&0x0f | 0x40 // version 4, high nibble of time_hi_and_version
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return u
}

// IsZero reports whether u is all zeros.
func (u UUID) IsZero() bool { return u == UUID{} }

// String formats u as pmempool info prints it.
func (u UUID) String() string {
	return fmt.Sprintf("%08x-%04x-%04x-%02x%02x-%x",
		binary.LittleEndian.Uint32(u[0:]), binary.LittleEndian.Uint16(u[4:]),
		binary.LittleEndian.Uint16(u[6:]), u[8], u[9], u[10:16])
}
