package obj

import (
	"fmt"
	"math"
	"reflect"
)

// cStrtol parses the number at the start of s as C's strtol with base 0:
// leading white space, a sign, then hexadecimal after 0x, octal after 0,
// decimal otherwise. ok is false when no digit was read (endptr == s);
// overflow reports a value out of the int64 range (clamped, as C).
func cStrtol(s string) (v int64, ok, overflow bool) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] >= '\t' && s[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	base := uint64(10)
	switch {
	case i+2 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') && digit(s[i+2], 16) >= 0:
		base = 16
		i += 2
	case i < len(s) && s[i] == '0':
		base = 8
	}
	var u uint64
	n := 0
	for ; i < len(s); i++ {
		d := digit(s[i], base)
		if d < 0 {
			break
		}
		n++
		if u > (math.MaxUint64-uint64(d))/base {
			overflow = true
			continue
		}
		u = u*base + uint64(d)
	}
	if n == 0 {
		return 0, false, false
	}
	switch {
	case neg && (overflow || u > 1<<63):
		return math.MinInt64, true, true
	case neg:
		return -int64(u), true, false
	case overflow || u > math.MaxInt64:
		return math.MaxInt64, true, true
	}
	return int64(u), true, false
}

func digit(c byte, base uint64) int {
	var d int
	switch {
	case c >= '0' && c <= '9':
		d = int(c - '0')
	case c >= 'a' && c <= 'z':
		d = int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		d = int(c-'A') + 10
	default:
		return -1
	}
	if uint64(d) >= base {
		return -1
	}
	return d
}

// The configuration parsers, C's ctl_arg_* (one token each).

// parseBool is ctl_arg_boolean: the first character y, Y or 1 is 1, n, N
// or 0 is 0 (so "yes", "10" and "nope" parse).
func parseBool(tok string) (int64, error) {
	switch tok[0] {
	case 'y', 'Y', '1':
		return 1, nil
	case 'n', 'N', '0':
		return 0, nil
	}
	return 0, fmt.Errorf("%q is not a boolean", tok)
}

// parseInt is ctl_arg_integer into a destination of bits bits (32: int,
// 64: long long): strtoll base 0, trailing characters ignored, out of the
// destination's range refused.
func parseInt(tok string, bits int) (int64, error) {
	v, ok, overflow := cStrtol(tok)
	if !ok || overflow {
		return 0, fmt.Errorf("%q is not an integer", tok)
	}
	if bits == 32 && (v > math.MaxInt32 || v < math.MinInt32) {
		return 0, fmt.Errorf("%q is out of range", tok)
	}
	return v, nil
}

func oneToken(toks []string) (string, error) {
	if len(toks) == 0 {
		return "", fmt.Errorf("no value")
	}
	return toks[0], nil
}

func boolParser(toks []string) (any, error) {
	t, err := oneToken(toks)
	if err != nil {
		return nil, err
	}
	return parseBool(t)
}

func intParser(bits int) func([]string) (any, error) {
	return func(toks []string) (any, error) {
		t, err := oneToken(toks)
		if err != nil {
			return nil, err
		}
		return parseInt(t, bits)
	}
}

// argInt returns the integer a set query was given: a value of any Go
// integer or boolean kind (the package's enum types too), or a pointer to
// one.
func argInt(arg any) (int64, error) {
	rv := reflect.ValueOf(arg)
	switch {
	case rv.Kind() == reflect.Pointer && rv.IsNil():
		return 0, fmt.Errorf("%w: nil pointer", ErrCtlArg)
	case rv.Kind() == reflect.Pointer:
		return argInt(rv.Elem().Interface())
	case rv.CanInt():
		return rv.Int(), nil
	case rv.CanUint():
		return uintArg(rv.Uint())
	case rv.Kind() == reflect.Bool:
		if rv.Bool() {
			return 1, nil
		}
		return 0, nil
	}
	return 0, fmt.Errorf("%w: %T is not an integer", ErrCtlArg, arg)
}

func uintArg(v uint64) (int64, error) {
	if v > math.MaxInt64 {
		return 0, fmt.Errorf("%w: %d out of range", ErrCtlArg, v)
	}
	return int64(v), nil
}

// putInt stores v through the pointer a get query was given: a pointer to
// any Go integer type v fits in, or to one of the package's enum types.
func putInt(arg any, v int64) error {
	if rv := reflect.ValueOf(arg); rv.Kind() == reflect.Pointer && rv.IsNil() {
		return fmt.Errorf("%w: nil pointer", ErrCtlArg)
	}
	fits := func(lo, hi int64) bool { return v >= lo && v <= hi }
	ok := true
	switch p := arg.(type) {
	case *int:
		*p = int(v)
	case *int32:
		if ok = fits(math.MinInt32, math.MaxInt32); ok {
			*p = int32(v)
		}
	case *int64:
		*p = v
	case *uint:
		if ok = v >= 0; ok {
			*p = uint(v)
		}
	case *uint32:
		if ok = fits(0, math.MaxUint32); ok {
			*p = uint32(v)
		}
	case *uint64:
		*p = uint64(v) // counters are unsigned in C: the bits as they are
	case *bool:
		*p = v != 0
	case *StatsEnabled:
		*p = StatsEnabled(v)
	case *ArenasAssignment:
		*p = ArenasAssignment(v)
	default:
		return fmt.Errorf("%w: %T is not a pointer to an integer", ErrCtlArg, arg)
	}
	if !ok {
		return fmt.Errorf("%w: %d does not fit %T", ErrCtlArg, v, arg)
	}
	return nil
}
