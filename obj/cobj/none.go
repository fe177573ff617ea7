//go:build !cpeer || !cgo

package cobj

import "os"

// Available reports whether the C peer is compiled in.
const Available = false

// Sizes of C's header; zero without the C peer.
const (
	MinPoolSize  = int64(0)
	MaxLayout    = 0
	MaxAllocSize = uint64(0)
)

// FlagZero is POBJ_XALLOC_ZERO.
const FlagZero = uint64(1)

// OID is C's PMEMoid.
type OID struct {
	PoolUUIDLo uint64
	Off        uint64
}

// IsNull is OID_IS_NULL.
func (o OID) IsNull() bool { return o.Off == 0 }

// Pool is the C peer's pool; without the cpeer tag none can be made.
type Pool struct{}

// ErrorMsg is empty.
func ErrorMsg() string { return "" }

// Create fails: no C peer in this build.
func Create(string, string, int64, os.FileMode) (*Pool, error) { return nil, ErrUnavailable }

// Open fails: no C peer in this build.
func Open(string, string) (*Pool, error) { return nil, ErrUnavailable }

// Check fails: no C peer in this build.
func Check(string, string) (int, error) { return -1, ErrUnavailable }

// Close does nothing.
func (*Pool) Close() error { return nil }

// Root fails.
func (*Pool) Root(int) (OID, error) { return OID{}, ErrUnavailable }

// RootSize is 0.
func (*Pool) RootSize() int { return 0 }

// Alloc fails.
func (*Pool) Alloc(int, uint64) (OID, error) { return OID{}, ErrUnavailable }

// Zalloc fails.
func (*Pool) Zalloc(int, uint64) (OID, error) { return OID{}, ErrUnavailable }

// Xalloc fails.
func (*Pool) Xalloc(int, uint64, uint64) (OID, error) { return OID{}, ErrUnavailable }

// AllocTo fails.
func (*Pool) AllocTo(*OID, int, uint64) error { return ErrUnavailable }

// XallocTo fails.
func (*Pool) XallocTo(*OID, int, uint64, uint64) error { return ErrUnavailable }

// StrdupTo fails.
func (*Pool) StrdupTo(*OID, string, uint64) error { return ErrUnavailable }

// Realloc fails.
func (*Pool) Realloc(oid OID, _ int, _ uint64, _ bool) (OID, error) { return oid, ErrUnavailable }

// ReallocTo fails.
func (*Pool) ReallocTo(*OID, int, uint64) error { return ErrUnavailable }

// Free does nothing.
func Free(OID) {}

// FreeOID does nothing.
func FreeOID(*OID) {}

// Action is C's struct pobj_action.
type Action struct{}

// Reserve fails.
func (*Pool) Reserve(int, uint64) (OID, Action, error) { return OID{}, Action{}, ErrUnavailable }

// Xreserve fails.
func (*Pool) Xreserve(int, uint64, uint64) (OID, Action, error) {
	return OID{}, Action{}, ErrUnavailable
}

// SetValue does nothing.
func (*Pool) SetValue(*uint64, uint64) Action { return Action{} }

// DeferFree does nothing.
func (*Pool) DeferFree(OID) Action { return Action{} }

// Publish fails.
func (*Pool) Publish(...Action) error { return ErrUnavailable }

// Cancel does nothing.
func (*Pool) Cancel(...Action) {}

// First is the null OID.
func (*Pool) First() OID { return OID{} }

// Next is the null OID.
func Next(OID) OID { return OID{} }

// TypeNum is 0.
func TypeNum(OID) uint64 { return 0 }

// UsableSize is 0.
func UsableSize(OID) int { return 0 }

// Bytes is nil.
func Bytes(OID) []byte { return nil }

// Persist does nothing.
func (*Pool) Persist([]byte) {}

// AllocFreeN fails.
func (*Pool) AllocFreeN(int, uint64, int) error { return ErrUnavailable }

// TxKind is a transaction of the benchmark loop TxN.
type TxKind int

const (
	TxEmpty TxKind = iota
	TxAllocFree
	TxAddRange
)

// TxN is the stub of C's transaction loop.
func (*Pool) TxN(TxKind, int, OID, int) error { return ErrUnavailable }

// RootN is the stub of C's root lookup loop.
func (*Pool) RootN(int, int) error { return ErrUnavailable }

// HeaderType is C's enum pobj_header_type.
type HeaderType int

// C's header types.
const (
	HeaderLegacy HeaderType = iota
	HeaderCompact
	HeaderNone
)

// ClassDesc is C's struct pobj_alloc_class_desc.
type ClassDesc struct {
	UnitSize      uint64
	Alignment     uint64
	UnitsPerBlock uint32
	HeaderType    HeaderType
	ClassID       uint32
}

// NewAllocClass fails.
func (*Pool) NewAllocClass(ClassDesc) (ClassDesc, error) { return ClassDesc{}, ErrUnavailable }

// AllocClass finds no class.
func (*Pool) AllocClass(int) (ClassDesc, bool) { return ClassDesc{}, false }

// CtlGetInt64 fails.
func (*Pool) CtlGetInt64(string) (int64, error) { return 0, ErrUnavailable }

// CtlSetInt fails.
func (*Pool) CtlSetInt(string, int) error { return ErrUnavailable }
