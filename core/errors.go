package core

import (
	"errors"
	"fmt"
)

// ErrCorrupt is wrapped by every error that reports bad on-media data: a
// field out of range, a checksum mismatch, a truncated file.
var ErrCorrupt = errors.New("corrupt pool")

// CorruptError names the field of a pool that failed validation and where
// it lies. errors.Is(err, ErrCorrupt) holds for it.
type CorruptError struct {
	Offset int64  // byte offset of the field in the pool file, or -1
	Field  string // e.g. "pool header: checksum"
	Want   any    // what was expected, or nil
	Got    any    // what was found, or nil
}

func (e *CorruptError) Error() string {
	msg := "corrupt pool: " + e.Field
	if e.Offset >= 0 {
		msg += fmt.Sprintf(" at offset %#x", e.Offset)
	}
	switch {
	case e.Want != nil && e.Got != nil:
		msg += fmt.Sprintf(": want %v, got %v", e.Want, e.Got)
	case e.Got != nil:
		msg += fmt.Sprintf(": bad value %v", e.Got)
	}
	return msg
}

func (e *CorruptError) Unwrap() error { return ErrCorrupt }

// Corrupt returns a *CorruptError for field at offset, with the expected
// and the found value (either may be nil).
func Corrupt(offset int64, field string, want, got any) error {
	return &CorruptError{Offset: offset, Field: field, Want: want, Got: got}
}
