package pmempool

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gopmdk/pmdk/blk"
	"github.com/gopmdk/pmdk/core/pmemtest"
	pmemlog "github.com/gopmdk/pmdk/log"
)

func newLog(t *testing.T) string {
	t.Helper()
	p := pmemtest.Path(t, "log")
	l, err := pmemlog.Create(p, 8<<20, 0o644)
	require.NoError(t, err)
	require.NoError(t, l.Append([]byte("hello pmempool")))
	require.NoError(t, l.Close())
	return p
}

func newBlk(t *testing.T, write bool) string {
	t.Helper()
	p := pmemtest.Path(t, "blk")
	b, err := blk.Create(p, 512, 32<<20, 0o644)
	require.NoError(t, err)
	if write {
		buf := make([]byte, 512)
		for i := range int64(10) {
			buf[0] = byte(i)
			require.NoError(t, b.Write(buf, i))
		}
	}
	require.NoError(t, b.Close())
	return p
}

func patch(t *testing.T, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	_, err = f.WriteAt(b, off)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

func TestCheckConsistent(t *testing.T) {
	for name, p := range map[string]string{"log": newLog(t), "blk": newBlk(t, true), "blk-nolayout": newBlk(t, false)} {
		t.Run(name, func(t *testing.T) {
			res, msgs, err := Check(p, &CheckOptions{Verbose: true})
			require.NoError(t, err)
			assert.Equal(t, Consistent, res, "%v", msgs)
		})
	}
}

func TestCheckRepairLogWriteOffset(t *testing.T) {
	p := newLog(t)
	patch(t, p, logWriteAt, []byte{0xff, 0xff, 0xff, 0xff, 0xff})
	before, err := os.ReadFile(p)
	require.NoError(t, err)
	res, msgs, err := Check(p, nil)
	require.NoError(t, err)
	assert.Equal(t, NotConsistent, res)
	assert.Equal(t, []Status{{StatusError, "invalid pmemlog.write_offset: 0xffffffffff"}}, msgs)
	after, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, before, after, "check without repair changed the pool")

	res, _, err = Check(p, &CheckOptions{Repair: true, Ask: func(string) bool { return false }})
	require.NoError(t, err)
	assert.Equal(t, NotConsistent, res)
	res, _, err = Check(p, &CheckOptions{Repair: true, DryRun: true, Yes: true})
	require.NoError(t, err)
	assert.Equal(t, Repaired, res)
	after, _ = os.ReadFile(p)
	assert.Equal(t, before, after, "dry run changed the pool")

	res, _, err = Check(p, &CheckOptions{Repair: true, Yes: true})
	require.NoError(t, err)
	assert.Equal(t, Repaired, res)
	res, msgs, err = Check(p, nil)
	require.NoError(t, err)
	assert.Equal(t, Consistent, res, "%v", msgs)
}
