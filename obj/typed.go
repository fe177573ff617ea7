package obj

import (
	"reflect"
	"unsafe"
)

// RootPtr returns the root object as a Ptr[T], creating it zeroed (or
// growing it) to hold a T (pmemobj_root with sizeof(T), POBJ_ROOT).
func RootPtr[T any](p *Pool) (Ptr[T], error) {
	if err := checkPointerFree(reflect.TypeFor[T]()); err != nil {
		return Ptr[T]{}, err
	}
	var zero T
	oid, err := p.Root(max(int(unsafe.Sizeof(zero)), 1))
	return Ptr[T]{oid}, err
}

// TxNew allocates a zeroed T in tx (TX_ZNEW): it exists if tx commits. The
// returned *T may be written without a snapshot.
func TxNew[T any](tx *Tx, typeNum uint64) (Ptr[T], *T, error) {
	if err := checkPointerFree(reflect.TypeFor[T]()); err != nil {
		return Ptr[T]{}, nil, err
	}
	var zero T
	oid, err := tx.Zalloc(max(int(unsafe.Sizeof(zero)), 1), typeNum)
	if err != nil {
		return Ptr[T]{}, nil, err
	}
	return Ptr[T]{oid}, (*T)(unsafe.Pointer(&tx.s.p.m.B[oid.Off])), nil
}

// TxAdd snapshots *v, a T in the pool, in tx (TX_ADD): once it returns,
// *v may be changed; the change commits with tx or is undone.
func TxAdd[T any](tx *Tx, v *T) error {
	var zero T
	return tx.AddRangeDirect(unsafe.Slice((*byte)(unsafe.Pointer(v)), unsafe.Sizeof(zero)))
}

// TxSet snapshots *dst, a T in the pool, and stores v in it (TX_SET): the
// snapshot cannot be forgotten.
func TxSet[T any](tx *Tx, dst *T, v T) error {
	if err := TxAdd(tx, dst); err != nil {
		return err
	}
	*dst = v
	return nil
}

// TxUpdate snapshots *v, a T in the pool, and calls fn on it: the changes
// fn makes commit with tx or are undone.
func TxUpdate[T any](tx *Tx, v *T, fn func(*T)) error {
	if err := TxAdd(tx, v); err != nil {
		return err
	}
	fn(v)
	return nil
}

// PointerFree returns nil if T may live in persistent memory, or an error
// wrapping [ErrNotPointerFree] that names T's first Go pointer: the check
// New, TxNew and Ptr.Get make, for libraries that keep Ts in objects of
// their own.
func PointerFree[T any]() error { return checkPointerFree(reflect.TypeFor[T]()) }
