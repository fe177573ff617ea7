//go:build !linux

package crashsim

import (
	"errors"
	"os"
)

var pageSize = os.Getpagesize()

func touchedPages(b []byte, buf []byte) ([]byte, bool) { return nil, false }

func dropPages(b []byte) error { return errors.ErrUnsupported }
