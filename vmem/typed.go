package vmem

import (
	"fmt"
	"reflect"
	"sync"
	"unsafe"
)

// New allocates a zeroed T in the pool and returns a pointer to it, valid
// until FreeValue or Close. T must hold no Go pointers (pointers, slices,
// strings, maps, channels, funcs, interfaces, unsafe.Pointer or uintptr,
// at any depth): the garbage collector does not scan pool memory, so such
// a value would be the only, invisible, reference to Go memory. Such a T
// is ErrNotPointerFree, decided once per type.
func New[T any](p *Pool) (*T, error) {
	var zero T
	if err := pointerFreeType(reflect.TypeFor[T]()); err != nil {
		return nil, err
	}
	b, err := p.typedAlloc(unsafe.Sizeof(zero), unsafe.Alignof(zero))
	if err != nil {
		return nil, err
	}
	return (*T)(unsafe.Pointer(unsafe.SliceData(b))), nil
}

// NewSlice allocates n zeroed Ts in the pool, with New's rule on T; n = 0
// gives an empty slice that holds no pool memory.
func NewSlice[T any](p *Pool, n int) ([]T, error) {
	var zero T
	if err := pointerFreeType(reflect.TypeFor[T]()); err != nil {
		return nil, err
	}
	if n < 0 || unsafe.Sizeof(zero) != 0 && uintptr(n) > uintptr(len(p.mem))/unsafe.Sizeof(zero) {
		return nil, fmt.Errorf("vmem: %d values of %d bytes: %w", n, unsafe.Sizeof(zero), ErrNoMem)
	}
	if n == 0 {
		return []T{}, nil // nothing in the pool; FreeSlice accepts it
	}
	b, err := p.typedAlloc(uintptr(n)*unsafe.Sizeof(zero), unsafe.Alignof(zero))
	if err != nil {
		return nil, err
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n), nil
}

// FreeValue frees a value New returned.
func FreeValue[T any](p *Pool, v *T) error {
	if v == nil {
		return nil
	}
	return p.Free(unsafe.Slice((*byte)(unsafe.Pointer(v)), 1))
}

// FreeSlice frees a slice NewSlice returned (or any slice of it starting at
// its first element with a non-zero cap).
func FreeSlice[T any](p *Pool, s []T) error {
	if cap(s) == 0 {
		return nil
	}
	return p.Free(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), 1))
}

func (p *Pool) typedAlloc(size, align uintptr) ([]byte, error) {
	var b []byte
	var err error
	if align > minAlign {
		b, err = p.AlignedAlloc(int(align), int(size))
	} else {
		b, err = p.Malloc(int(size))
	}
	if err != nil {
		return nil, err
	}
	clear(b[:cap(b)][:size])
	return b[:cap(b)], nil
}

// pointerFreeType returns ErrNotPointerFree (naming the offending field)
// when values of t can hold Go pointers; the verdict is kept per type.
func pointerFreeType(t reflect.Type) error {
	if v, ok := verdicts.Load(t); ok {
		return v.(verdict).err
	}
	var err error
	if where, ok := goPointerIn(t); ok {
		err = fmt.Errorf("%w: %s (in %s)", ErrNotPointerFree, where, t)
	}
	verdicts.Store(t, verdict{err})
	return err
}

type verdict struct{ err error }

var verdicts sync.Map // reflect.Type → verdict

// goPointerIn reports whether a value of t can hold a Go pointer, and
// where: a field path and the kind found there.
func goPointerIn(t reflect.Type) (string, bool) {
	switch k := t.Kind(); {
	case k >= reflect.Bool && k <= reflect.Complex128 && k != reflect.Uintptr:
		return "", false
	case k == reflect.Array:
		if t.Len() > 0 {
			if w, ok := goPointerIn(t.Elem()); ok {
				return "[0]" + w, true
			}
		}
		return "", false
	case k == reflect.Struct:
		for f := range t.Fields() {
			if w, ok := goPointerIn(f.Type); ok {
				return "." + f.Name + w, true
			}
		}
		return "", false
	default:
		return " " + k.String(), true
	}
}
