package obj

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Errors of the ctl interface (pmemobj_ctl_get/set/exec). C returns -1
// with errno EINVAL for all but the index, existence and class cases.
var (
	// ErrCtlNotFound: no such name, or a name that is not a leaf (C:
	// "invalid query entry point", EINVAL).
	ErrCtlNotFound = errors.New("obj: ctl: no such name")
	// ErrCtlAccess: the name does not take this query: a set of a
	// read-only name, a get of a write-only one, an exec of one that is
	// not runnable (C: "invalid query entry point", EINVAL).
	ErrCtlAccess = errors.New("obj: ctl: query not supported by the name")
	// ErrCtlArg: a missing argument, one of a Go type the name does not
	// take, or a value the name refuses (EINVAL).
	ErrCtlArg = errors.New("obj: ctl: invalid argument")
	// ErrCtlRange: an index (class or arena id) out of range (ERANGE).
	ErrCtlRange = errors.New("obj: ctl: index out of range")
	// ErrCtlExists: heap.alloc_class.[id].desc set for an id in use
	// (EEXIST).
	ErrCtlExists = errors.New("obj: ctl: allocation class id in use")
	// ErrCtlNotSupported: a name C has whose effect Go cannot give; the
	// table in the package documentation says why.
	ErrCtlNotSupported = errors.New("obj: ctl: not supported")
	// ErrCtlConfig: a PMEMOBJ_CONF string or PMEMOBJ_CONF_FILE that does
	// not parse, or whose query fails (Create and Open fail with it, as
	// C's with EINVAL).
	ErrCtlConfig = errors.New("obj: ctl: invalid configuration")
)

// StatsEnabled is the value of stats.enabled (enum pobj_stats_enabled).
type StatsEnabled int32

// The stats modes, C's values.
const (
	StatsTransient  StatsEnabled = 0 // run_allocated and run_active (the default)
	StatsBoth       StatsEnabled = 1 // all three counters
	StatsPersistent StatsEnabled = 2 // curr_allocated only
	StatsDisabled   StatsEnabled = 3
)

// ArenasAssignment is the value of heap.arenas_assignment_type (enum
// pobj_arenas_assignment_type).
type ArenasAssignment int32

// The arena assignment types, C's values.
const (
	// ArenasThreadKey: each lane has its own arena (C: each thread).
	ArenasThreadKey ArenasAssignment = 0
	// ArenasGlobal: every lane uses the first automatic arena.
	ArenasGlobal ArenasAssignment = 1
)

// HeaderType is an allocation class's object header (enum
// pobj_header_type), C's values.
type HeaderType int32

const (
	HeaderLegacy  HeaderType = 0 // 64 bytes
	HeaderCompact HeaderType = 1 // 16 bytes
	HeaderNone    HeaderType = 2 // no header: one unit per object
)

// AllocClassDesc describes an allocation class (struct
// pobj_alloc_class_desc): the argument of heap.alloc_class.[id].desc
// and heap.alloc_class.new.desc.
type AllocClassDesc struct {
	UnitSize      uint64 // bytes per unit
	Alignment     uint64 // of the user data; 0: none
	UnitsPerBlock uint32 // at least this many units per run
	HeaderType    HeaderType
	ClassID       uint32 // set by a get, and by a set (the id given)
}

// ctlNode is a node of the ctl tree: named or indexed, with children, or
// a leaf with the queries it takes. parse turns a configuration value
// (its comma-separated tokens) into the argument set takes.
type ctlNode struct {
	name    string
	indexed bool
	kids    []*ctlNode
	get     func(q *ctlQuery, arg any) error
	set     func(q *ctlQuery, arg any) error
	exec    func(q *ctlQuery, arg any) error
	parse   func(tokens []string) (any, error)
}

// ctlQuery is one query: the pool (nil in the global namespace) and the
// indexes the name held, in order.
type ctlQuery struct {
	p   *Pool
	idx []int64
}

// index returns the query's last index, or an error when the name held
// none (a name like heap.arena.arena_id.size, on which C crashes).
func (q *ctlQuery) index() (int64, error) {
	if len(q.idx) == 0 {
		return 0, fmt.Errorf("%w: the name needs an index", ErrCtlNotFound)
	}
	return q.idx[len(q.idx)-1], nil
}

type ctlKind int

const (
	ctlGet ctlKind = iota
	ctlSet
	ctlExec
)

func (k ctlKind) String() string { return [...]string{"get", "set", "exec"}[k] }

// ctlFind walks name through the tree nodes as C's ctl_find_node: the
// name splits at dots (empty parts are skipped); a part that begins with
// a number (strtol, base 0) is an index and matches the first indexed
// node, any other part a node of its name.
func ctlFind(nodes []*ctlNode, name string) (*ctlNode, []int64) {
	var idx []int64
	var n *ctlNode
	parts := strings.FieldsFunc(name, func(r rune) bool { return r == '.' })
	if len(parts) == 0 {
		return nil, nil
	}
	for i, part := range parts {
		if i > 0 && n.kids == nil {
			return nil, nil // past a leaf (C reads a null child list)
		}
		if i > 0 {
			nodes = n.kids
		}
		v, isIndex, _ := cStrtol(part)
		n = nil
		for _, c := range nodes {
			if isIndex && c.indexed || c.name == part {
				n = c
				break
			}
		}
		if n == nil {
			return nil, nil
		}
		if isIndex {
			idx = append(idx, v)
		}
	}
	return n, idx
}

// ctlRun runs one query: the global tree first, then the pool's (C's
// ctl_query).
func ctlRun(p *Pool, name string, kind ctlKind, arg any, config bool) error {
	n, idx := ctlFind(ctlGlobalTree, name)
	if n == nil && p != nil {
		n, idx = ctlFind(ctlPoolTree, name)
	}
	if n == nil || n.kids != nil {
		return fmt.Errorf("%w: %q", ErrCtlNotFound, name)
	}
	f := [...]func(*ctlQuery, any) error{n.get, n.set, n.exec}[kind]
	if f == nil {
		return fmt.Errorf("%w: %s of %q", ErrCtlAccess, kind, name)
	}
	if kind != ctlExec && arg == nil {
		return fmt.Errorf("%w: %s of %q needs an argument", ErrCtlArg, kind, name)
	}
	if config {
		if n.parse == nil {
			return fmt.Errorf("%w: %q takes no configuration value", ErrCtlArg, name)
		}
		v, err := n.parse(ctlTokens(arg.(string)))
		if err != nil {
			return fmt.Errorf("%w: %q: %w", ErrCtlArg, name, err)
		}
		arg = v
	}
	if err := f(&ctlQuery{p: p, idx: idx}, arg); err != nil {
		return fmt.Errorf("obj: ctl %s %q: %w", kind, name, err)
	}
	return nil
}

// ctlTokens splits a configuration value at commas, skipping empty
// tokens (C's strtok).
func ctlTokens(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' })
}

// CtlGet reads the value name names into arg, a pointer of the Go type
// the name takes (pmemobj_ctl_get); the names, their types and the
// errors are in the package documentation. The global names (prefault.*,
// sds.at_create...) are read here too.
func (p *Pool) CtlGet(name string, arg any) error {
	return p.ctl(name, ctlGet, arg)
}

// CtlSet sets the value name names from arg (pmemobj_ctl_set): a value
// of the name's Go type or a pointer to one. For heap.alloc_class.new.desc
// a *AllocClassDesc receives the class id and units per block chosen.
func (p *Pool) CtlSet(name string, arg any) error {
	return p.ctl(name, ctlSet, arg)
}

// CtlExec runs the action name names (pmemobj_ctl_exec), with arg as the
// name documents (heap.arena.create stores the new arena's id in it).
func (p *Pool) CtlExec(name string, arg any) error {
	return p.ctl(name, ctlExec, arg)
}

func (p *Pool) ctl(name string, kind ctlKind, arg any) error {
	r, err := p.enterRead()
	if err != nil {
		return err
	}
	defer p.leaveRead(r)
	return ctlRun(p, name, kind, arg, false)
}

// CtlGet reads a global name, as pmemobj_ctl_get with a NULL pool: the
// names that hold for every pool (prefault.at_create, prefault.at_open,
// sds.at_create, fallocate.at_create, copy_on_write.at_open,
// heap.arenas_assignment_type, heap.arenas_default_max). Pool names fail
// with ErrCtlNotFound.
func CtlGet(name string, arg any) error {
	ctlInitGlobal()
	return ctlRun(nil, name, ctlGet, arg, false)
}

// CtlSet sets a global name (pmemobj_ctl_set with a NULL pool); it holds
// for the pools created or opened afterwards.
func CtlSet(name string, arg any) error {
	ctlInitGlobal()
	return ctlRun(nil, name, ctlSet, arg, false)
}

// CtlExec runs a global name (pmemobj_ctl_exec with a NULL pool); no
// global name is runnable.
func CtlExec(name string, arg any) error {
	ctlInitGlobal()
	return ctlRun(nil, name, ctlExec, arg, false)
}

// ctlGlobals are the global names' values (C's globals in set.c and
// heap.c). C's int flags keep whatever int they were given.
var ctlGlobals struct {
	prefaultAtCreate  atomic.Int32
	prefaultAtOpen    atomic.Int32
	sdsAtCreate       atomic.Int32
	fallocateAtCreate atomic.Int32
	cowAtOpen         atomic.Int32
	arenasAssignment  atomic.Int32
	arenasDefaultMax  atomic.Int64 // 0: GOMAXPROCS
}

func init() {
	ctlGlobals.sdsAtCreate.Store(1)
	ctlGlobals.fallocateAtCreate.Store(1)
}

// ctlPoolState is a pool's ctl values that no other part owns.
type ctlPoolState struct {
	txSkipExpensive   atomic.Int32
	verifyUserBuffers atomic.Int32
	txCacheSize       atomic.Int64
	growSize          atomic.Int64
}

// Defaults of the pool's ctl values (TX_DEFAULT_RANGE_CACHE_SIZE,
// HEAP_DEFAULT_GROW_SIZE).
const (
	defaultTxCacheSize = 32 << 10
	defaultGrowSize    = 128 << 20
	minPart            = 2 << 20 // PMEMOBJ_MIN_PART
)

func (s *ctlPoolState) init() {
	s.txCacheSize.Store(defaultTxCacheSize)
	s.growSize.Store(defaultGrowSize)
}

// userBufs are the log buffers running transactions use, registered
// while tx.debug.verify_user_buffers is on (C's ulog_user_buffers tree).
type userBufs struct {
	mu sync.Mutex
	r  [][2]uint64 // [start, end) pool offsets
}

// insert registers r unless it overlaps a registered buffer.
func (u *userBufs) insert(r [2]uint64) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, o := range u.r {
		if r[0] < o[1] && o[0] < r[1] {
			return false
		}
	}
	u.r = append(u.r, r)
	return true
}

// remove unregisters the buffers of rs.
func (u *userBufs) remove(rs [][2]uint64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.r = slices.DeleteFunc(u.r, func(o [2]uint64) bool { return slices.Contains(rs, o) })
}
