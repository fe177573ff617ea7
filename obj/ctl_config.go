package obj

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/obj/layout"
)

// The environment variables C's libpmemobj reads its configuration from.
const (
	// ConfEnv holds queries: "name=value;name=value".
	ConfEnv = "PMEMOBJ_CONF"
	// ConfFileEnv names a file of queries (comments from # to the end of
	// a line, white space ignored).
	ConfFileEnv = "PMEMOBJ_CONF_FILE"
	// maxConfigFile is the largest configuration file C reads (1 MiB).
	maxConfigFile = 1 << 20
)

var ctlGlobalOnce sync.Once

// ctlInitGlobal loads the configuration into the global names once, as
// C's library constructor does; errors are ignored there (the pools'
// loads report them).
func ctlInitGlobal() {
	ctlGlobalOnce.Do(func() { _ = ctlLoadEnv(nil) })
}

// ctlLoadEnv applies PMEMOBJ_CONF, then PMEMOBJ_CONF_FILE if set and not
// empty, to p, or to the global names for nil (obj_ctl_init_and_load).
func ctlLoadEnv(p *Pool) error {
	if s, ok := os.LookupEnv(ConfEnv); ok {
		if err := ctlLoadString(p, s); err != nil {
			return fmt.Errorf("%s: %w", ConfEnv, err)
		}
	}
	if f := os.Getenv(ConfFileEnv); f != "" {
		if err := ctlLoadFile(p, f); err != nil {
			return fmt.Errorf("%s %s: %w", ConfFileEnv, f, err)
		}
	}
	return nil
}

// ctlLoadPool loads the configuration for a new or opened pool. C resets
// tx.debug.verify_user_buffers to 0 right after loading it, so that the
// configuration cannot turn it on (only pmemobj_ctl_set can); Go does the
// same.
func ctlLoadPool(p *Pool) error {
	err := ctlLoadEnv(p)
	p.ctlState.verifyUserBuffers.Store(0)
	return err
}

// ctlLoadString runs the set queries of a configuration string
// (ctl_load_config): queries separated by ';', each name=value, empty
// queries skipped. A query that does not parse fails the load; a query
// that fails fails it only for a pool (the global load runs every query
// it can).
func ctlLoadString(p *Pool, s string) error {
	for _, q := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' }) {
		// C's strtok: empty fields between '=' vanish, and exactly a
		// name and a value must remain.
		nv := strings.FieldsFunc(q, func(r rune) bool { return r == '=' })
		if len(nv) != 2 {
			return fmt.Errorf("%w: query %q is not name=value", ErrCtlConfig, q)
		}
		if err := ctlRun(p, nv[0], ctlSet, nv[1], true); err != nil && p != nil {
			return fmt.Errorf("%w: %w", ErrCtlConfig, err)
		}
	}
	return nil
}

// ctlLoadFile runs the queries of a configuration file
// (ctl_load_config_from_file): at most 1 MiB; '#' starts a comment that
// ends at the line's end; every white space character (C's isspace) is
// dropped; the rest is a configuration string.
func ctlLoadFile(p *Pool, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCtlConfig, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigFile+1))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCtlConfig, err)
	}
	if len(b) > maxConfigFile {
		return fmt.Errorf("%w: config file larger than %d bytes", ErrCtlConfig, maxConfigFile)
	}
	var sb strings.Builder
	comment := false
	for _, c := range b {
		switch {
		case c == '#':
			comment = true
		case c == '\n':
			comment = false
		case !comment && !(c == ' ' || c >= '\t' && c <= '\r'):
			if c == 0 {
				// C's buffer is a C string: it ends at the first NUL.
				return ctlLoadString(p, sb.String())
			}
			sb.WriteByte(c)
		}
	}
	return ctlLoadString(p, sb.String())
}

// prefault touches every page of the pool (prefault.at_create,
// prefault.at_open): a write of each page's first word as it is, as C
// does, or a read on a read-only mapping.
func prefault(m *core.Map, readOnly bool) {
	b := m.Bytes()
	for i := 0; i+4 <= len(b); i += layout.PageSize {
		w := (*uint32)(unsafe.Pointer(&b[i]))
		if readOnly {
			atomic.LoadUint32(w)
		} else {
			atomic.AddUint32(w, 0)
		}
	}
}
