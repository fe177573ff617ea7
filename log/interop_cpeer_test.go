//go:build cpeer

package log

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/log/clog"
)

// TestInteropCPeerInProcess drives C libpmemlog through cgo (package clog)
// in this process and Go on the same pool files in turn: the same
// operations give the same tell, nbyte, content and walk chunks.
func TestInteropCPeerInProcess(t *testing.T) {
	assert.Equal(t, int64(MinPoolSize), clog.MinPoolSize)
	dir := pmemtest.Dir(t)
	recs := records(7, 30, 700)

	c, err := clog.Create(dir+"/c.log", 8<<20, 0o600)
	require.NoError(t, err)
	require.NoError(t, c.Append([]byte("discarded")))
	c.Rewind()
	var want []byte
	for i, r := range recs {
		if i%2 == 0 {
			require.NoError(t, c.Appendv(r[:len(r)/2], nil, r[len(r)/2:]))
		} else {
			require.NoError(t, c.Append(r))
		}
		want = append(want, r...)
	}
	require.NoError(t, c.Appendv())
	cContent, calls := c.Content(100)
	assert.Equal(t, want, cContent)
	assert.Equal(t, (len(want)+99)/100, calls)
	assert.Equal(t, int64(len(want)), c.Tell())
	cNBytes := c.NBytes()
	c.Close()
	assert.Equal(t, 1, clog.Check(dir+"/c.log"))

	l, err := Open(dir+"/c.log", nil)
	require.NoError(t, err)
	assert.Equal(t, want, goContent(t, l))
	assert.Equal(t, cNBytes, l.NBytes())
	require.NoError(t, l.Appendv([]byte("go "), []byte("tail")))
	require.NoError(t, l.Close())

	c, err = clog.Open(dir + "/c.log")
	require.NoError(t, err)
	got, _ := c.Content(0)
	assert.Equal(t, append(bytes.Clone(want), "go tail"...), got)
	c.Close()

	// A full log refuses appends in both, the same way.
	for _, impl := range []string{"c", "go"} {
		path := dir + "/full-" + impl + ".log"
		var appendFn func([]byte) error
		var nbytes int64
		if impl == "c" {
			c, err := clog.Create(path, MinPoolSize, 0o600)
			require.NoError(t, err)
			defer c.Close()
			appendFn, nbytes = c.Append, c.NBytes()
		} else {
			l, err := Create(path, MinPoolSize, 0o600, nil)
			require.NoError(t, err)
			defer l.Close()
			appendFn, nbytes = l.Append, l.NBytes()
		}
		assert.Error(t, appendFn(make([]byte, nbytes+1)), impl)
		require.NoError(t, appendFn(make([]byte, nbytes)), impl)
		assert.Error(t, appendFn(nil), impl+": empty append to a full log "+strconv.FormatInt(nbytes, 10))
	}
}
