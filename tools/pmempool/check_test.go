package pmempool

import (
	"os"
	"testing"

	"github.com/gopmdk/pmdk/blk"
	blklayout "github.com/gopmdk/pmdk/blk/layout"
	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/core/pool"
	pmemlog "github.com/gopmdk/pmdk/log"
	loglayout "github.com/gopmdk/pmdk/log/layout"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newLog(t *testing.T) string {
	t.Helper()
	p := pmemtest.Path(t, "log")
	l, err := pmemlog.Create(p, pmemlog.MinPoolSize, 0o644, nil)
	require.NoError(t, err)
	require.NoError(t, l.Append([]byte("hello pmempool")))
	require.NoError(t, l.Close())
	return p
}

func newBlk(t *testing.T, write bool) string {
	t.Helper()
	p := pmemtest.Path(t, "blk")
	b, err := blk.Create(p, blk.MinPoolSize, 0o644, &blk.Options{BlockSize: 512})
	require.NoError(t, err)
	if write {
		buf := make([]byte, 512)
		for i := range int64(10) {
			buf[0] = byte(i)
			require.NoError(t, b.WriteBlock(buf, i))
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
	patch(t, p, loglayout.WriteOffsetAt, []byte{0xff, 0xff, 0xff, 0xff, 0xff})
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

// TestCheckObj: obj pools get the shutdown-state and header checks only,
// and a bad header is not repaired (as C 1.12.1).
func TestCheckObj(t *testing.T) {
	p := pmemtest.Path(t, "obj")
	pl, err := pool.Create(p, pool.Obj.MinSize, 0o644, pool.Obj, nil)
	require.NoError(t, err)
	require.NoError(t, pl.Close())
	res, msgs, err := Check(p, &CheckOptions{Verbose: true})
	require.NoError(t, err)
	assert.Equal(t, Consistent, res, "%v", msgs)
	patch(t, p, 30, []byte("X"))
	res, msgs, err = Check(p, &CheckOptions{Repair: true, Yes: true})
	require.NoError(t, err)
	assert.Equal(t, CannotRepair, res)
	assert.Equal(t, []Status{{StatusError, "the repair of pmemobj pools is not supported"}}, msgs)
}

// TestCheckQuestions: every question goes to Ask; a no stops the repair
// with nothing written.
func TestCheckQuestions(t *testing.T) {
	p := newBlk(t, true)
	patch(t, p, blklayout.BTTOffset+200, []byte{1}) // info checksum now wrong, backup intact
	before, err := os.ReadFile(p)
	require.NoError(t, err)
	var asked []string
	res, _, err := Check(p, &CheckOptions{Repair: true, Ask: func(q string) bool { asked = append(asked, q); return false }})
	require.NoError(t, err)
	assert.Equal(t, NotConsistent, res)
	assert.Equal(t, []string{"arena 0: BTT Info header checksum incorrect. Restore BTT Info from backup?"}, asked)
	after, _ := os.ReadFile(p)
	assert.Equal(t, before, after)
	res, _, err = Check(p, &CheckOptions{Repair: true, Ask: func(q string) bool { return true }})
	require.NoError(t, err)
	assert.Equal(t, Repaired, res)
	res, _, err = Check(p, nil)
	require.NoError(t, err)
	assert.Equal(t, Consistent, res)
}

func TestCheckBackup(t *testing.T) {
	p := newLog(t)
	patch(t, p, loglayout.WriteOffsetAt, []byte{0xff, 0xff, 0xff, 0xff, 0xff})
	orig, err := os.ReadFile(p)
	require.NoError(t, err)
	bk := pmemtest.Path(t, "backup")
	res, _, err := Check(p, &CheckOptions{Repair: true, Yes: true, Backup: bk})
	require.NoError(t, err)
	assert.Equal(t, Repaired, res)
	got, err := os.ReadFile(bk)
	require.NoError(t, err)
	assert.Equal(t, orig, got, "backup is not the pool before the repair")
	_, _, err = Check(p, &CheckOptions{Backup: bk})
	assert.Error(t, err, "backup without repair")
}
