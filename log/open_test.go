package log

import (
	"bytes"
	"io/fs"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/core/pool"
	"github.com/gopmdk/pmdk/log/layout"
)

func TestCreateReopen(t *testing.T) {
	path := pmemtest.Path(t, "a.log")
	l, err := Create(path, 4<<20, 0o640, nil)
	require.NoError(t, err)
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o640), st.Mode().Perm())
	require.NoError(t, l.Append([]byte("hello, ")))
	require.NoError(t, l.Appendv([]byte("persistent "), []byte("log")))
	require.NoError(t, l.Close())

	l, err = Open(path, nil)
	require.NoError(t, err)
	defer l.Close()
	assert.Equal(t, []byte("hello, persistent log"), goContent(t, l))
	assert.Equal(t, int64(4<<20-8192), l.NBytes())
	assert.False(t, l.ReadOnly())
}

func TestCreateErrors(t *testing.T) {
	dir := pmemtest.Dir(t)
	_, err := Create(dir+"/small.log", MinPoolSize-1, 0o600, nil)
	assert.ErrorIs(t, err, ErrPoolTooSmall)
	_, err = os.Stat(dir + "/small.log")
	assert.ErrorIs(t, err, fs.ErrNotExist, "a failed create leaves no file")

	_, err = Create(dir+"/neg.log", -1, 0o600, nil)
	assert.ErrorIs(t, err, ErrInvalidArgument)

	// poolsize 0 takes an existing file, which must be big enough.
	require.NoError(t, os.WriteFile(dir+"/tiny.log", make([]byte, 4096), 0o600))
	_, err = Create(dir+"/tiny.log", 0, 0o600, nil)
	assert.ErrorIs(t, err, ErrPoolTooSmall)
	_, err = Create(dir+"/missing.log", 0, 0o600, nil)
	assert.ErrorIs(t, err, fs.ErrNotExist)

	l, err := Create(dir+"/a.log", MinPoolSize, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, l.Close())
	_, err = Create(dir+"/a.log", MinPoolSize, 0o600, nil)
	assert.ErrorIs(t, err, fs.ErrExist)

	_, err = Open(dir+"/missing.log", nil)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	_, err = Check(dir+"/missing.log", nil)
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

func TestOpenLocked(t *testing.T) {
	path := pmemtest.Path(t, "a.log")
	l, err := Create(path, MinPoolSize, 0o600, nil)
	require.NoError(t, err)
	_, err = Open(path, nil)
	assert.ErrorIs(t, err, pool.ErrLocked)
	require.NoError(t, l.Close())
	l, err = Open(path, nil)
	require.NoError(t, err)
	require.NoError(t, l.Close())
}

func TestOpenReadOnly(t *testing.T) {
	path := pmemtest.Path(t, "a.log")
	l, err := Create(path, MinPoolSize, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, l.Append([]byte("kept")))
	require.NoError(t, l.Close())
	before, err := os.ReadFile(path)
	require.NoError(t, err)

	l, err = Open(path, &Options{Options: pool.Options{ReadOnly: true}})
	require.NoError(t, err)
	assert.True(t, l.ReadOnly())
	assert.ErrorIs(t, l.Append([]byte("x")), ErrReadOnly)
	assert.ErrorIs(t, l.Rewind(), ErrReadOnly)
	assert.Equal(t, []byte("kept"), goContent(t, l))
	require.NoError(t, l.Close())
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(before, after), "a read-only open changed the pool")
}

// TestOpenUnknownROCompat: a pool header with a ro-compat feature this
// library does not know opens read-only, as C does.
func TestOpenUnknownROCompat(t *testing.T) {
	path := pmemtest.Path(t, "a.log")
	l, err := Create(path, MinPoolSize, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, l.Close())

	img, err := os.ReadFile(path)
	require.NoError(t, err)
	h, err := pool.DecodeHeader(img)
	require.NoError(t, err)
	h.ROCompat |= 0x80
	h.Encode(img[:pool.HeaderSize])
	require.NoError(t, os.WriteFile(path, img, 0o600))

	l, err = Open(path, nil)
	require.NoError(t, err)
	defer l.Close()
	assert.True(t, l.ReadOnly())
	assert.ErrorIs(t, l.Append([]byte("x")), ErrReadOnly)
}

func TestOpenWrongKind(t *testing.T) {
	path := pmemtest.Path(t, "blk")
	p, err := pool.Create(path, 32<<20, 0o600, pool.Blk, nil)
	require.NoError(t, err)
	require.NoError(t, p.Close())
	_, err = Open(path, nil)
	require.Error(t, err)
	_, err = Check(path, nil)
	require.Error(t, err)
}

// TestCheckListsEveryProblem: Check reports each bad descriptor field with
// its offset, and leaves the pool file byte-identical.
func TestCheckListsEveryProblem(t *testing.T) {
	path := pmemtest.Path(t, "a.log")
	l, err := Create(path, MinPoolSize, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, l.Append([]byte("data")))
	require.NoError(t, l.Close())

	problems, err := Check(path, nil)
	require.NoError(t, err)
	assert.Empty(t, problems)

	img, err := os.ReadFile(path)
	require.NoError(t, err)
	// start past the end, so also above write_offset.
	layout.Descriptor{StartOffset: MinPoolSize + 4096, EndOffset: MinPoolSize, WriteOffset: 8192 + 4}.Encode(img)
	require.NoError(t, os.WriteFile(path, img, 0o600))

	problems, err = Check(path, nil)
	require.NoError(t, err)
	type where struct {
		off   int64
		field string
	}
	var got []where
	for _, p := range problems {
		var ce *core.CorruptError
		require.ErrorAs(t, p, &ce)
		got = append(got, where{ce.Offset, ce.Field})
	}
	assert.Equal(t, []where{
		{layout.StartOffsetAt, "log descriptor: start_offset"},
		{layout.StartOffsetAt, "log descriptor: start_offset above end_offset"},
		{layout.WriteOffsetAt, "log descriptor: write_offset below start_offset"},
	}, got)
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(img, after), "Check changed the pool")
}
