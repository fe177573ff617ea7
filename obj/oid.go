package obj

import (
	"fmt"
	"reflect"
	"sync"
	"unsafe"
)

// OID is a persistent object identifier with C's PMEMoid layout (16
// bytes): the pool's uuid_lo and the object's offset in the pool. An OID
// stored in a pool is read by C as a PMEMoid and the reverse. The zero
// OID is the null object (OID_NULL).
type OID struct {
	PoolUUIDLo uint64
	Off        uint64
}

// IsNull reports whether o is the null OID (OID_IS_NULL: offset 0).
func (o OID) IsNull() bool { return o.Off == 0 }

func (o OID) String() string { return fmt.Sprintf("OID{%#x, %#x}", o.PoolUUIDLo, o.Off) }

// Ptr is a typed persistent pointer: an OID whose object holds a T. It has
// the OID's layout, so a Ptr field of a persistent struct is a PMEMoid to
// C (a TOID). T must be pointer-free (see [New]).
type Ptr[T any] struct {
	oid OID
}

// PtrTo returns the typed pointer of oid. It checks nothing: [Ptr.Get]
// checks that the object can hold a T.
func PtrTo[T any](oid OID) Ptr[T] { return Ptr[T]{oid} }

// OID returns the untyped identifier.
func (p Ptr[T]) OID() OID { return p.oid }

// IsNull reports whether p is null.
func (p Ptr[T]) IsNull() bool { return p.oid.IsNull() }

// Get returns the object p points to in pool as a *T into the mapping,
// valid until the pool is closed. Stores through it are not persistent
// until persisted ([Pool.Persist]). It fails for an OID that is not an
// allocated object of pool, an object smaller than T, or a T with Go
// pointers.
func (p Ptr[T]) Get(pool *Pool) (*T, error) {
	if err := checkPointerFree(reflect.TypeFor[T]()); err != nil {
		return nil, err
	}
	b, err := pool.object(p.oid)
	if err != nil {
		return nil, err
	}
	var zero T
	if uintptr(len(b)) < unsafe.Sizeof(zero) {
		return nil, fmt.Errorf("%w: %d bytes for a %d-byte %T", ErrTooSmall, len(b), unsafe.Sizeof(zero), zero)
	}
	if uintptr(unsafe.Pointer(unsafe.SliceData(b)))%unsafe.Alignof(zero) != 0 {
		return nil, fmt.Errorf("obj: object at %#x not aligned for %T", p.oid.Off, zero)
	}
	return (*T)(unsafe.Pointer(unsafe.SliceData(b))), nil
}

// New allocates a zeroed object of type T with type number typeNum, runs
// init on it (if not nil) and persists it before the allocation becomes
// durable: after a crash the object is either absent or initialized. T
// must be pointer-free: bools, numbers, arrays and structs of them, and
// Ptr/OID fields; a type with Go pointers is refused with
// [ErrNotPointerFree], as the garbage collector cannot see them.
func New[T any](p *Pool, typeNum uint64, init func(*T)) (Ptr[T], error) {
	if err := checkPointerFree(reflect.TypeFor[T]()); err != nil {
		return Ptr[T]{}, err
	}
	var zero T
	size := max(int(unsafe.Sizeof(zero)), 1)
	oid, err := p.xalloc(size, typeNum, FlagZero, func(b []byte) error {
		if init != nil {
			init((*T)(unsafe.Pointer(unsafe.SliceData(b))))
		}
		return nil
	})
	return Ptr[T]{oid}, err
}

var pointerFree sync.Map // reflect.Type -> error (nil: pointer-free)

// checkPointerFree reports whether t may live in persistent memory. The
// answer is computed once per type.
func checkPointerFree(t reflect.Type) error {
	if v, ok := pointerFree.Load(t); ok {
		err, _ := v.(error)
		return err
	}
	var err error
	if bad := firstPointer(t, t.String()); bad != "" {
		err = fmt.Errorf("%w: %s", ErrNotPointerFree, bad)
	}
	pointerFree.Store(t, err)
	return err
}

// firstPointer returns the path of the first field of t that holds a Go
// pointer (or uintptr, which hides one), or "".
func firstPointer(t reflect.Type, path string) string {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return ""
	case reflect.Array:
		if t.Len() == 0 {
			return ""
		}
		return firstPointer(t.Elem(), path+"[]")
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if bad := firstPointer(f.Type, path+"."+f.Name); bad != "" {
				return bad
			}
		}
		return ""
	}
	return fmt.Sprintf("%s is a %s", path, t.Kind())
}

// NewTo is New that stores the new object's pointer into *dst, atomically
// with the allocation when dst lies in the pool (POBJ_NEW with a
// destination): after a crash, *dst names the initialized object or the
// object does not exist.
func NewTo[T any](p *Pool, dst *Ptr[T], typeNum uint64, init func(*T)) error {
	if err := checkPointerFree(reflect.TypeFor[T]()); err != nil {
		return err
	}
	var zero T
	size := max(int(unsafe.Sizeof(zero)), 1)
	_, err := p.operate(OID{}, size, typeNum, 0, FlagZero, func(b []byte) error {
		if init != nil {
			init((*T)(unsafe.Pointer(unsafe.SliceData(b))))
		}
		return nil
	}, &dst.oid, opAlloc)
	return err
}
