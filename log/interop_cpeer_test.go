//go:build cpeer

package log

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/log/clog"
)

// TestInteropCPeerInProcess drives C libpmemlog through cgo (package clog)
// in this process and Go on the same pool files in turn: the same
// operations give the same tell, nbyte, content and walk chunks.
func TestInteropCPeerInProcess(t *testing.T) {
	if got, want := clog.MinPoolSize, int64(MinPoolSize); got != want {
		t.Errorf("clog.MinPoolSize = %v, want %v", got, want)
	}
	dir := pmemtest.Dir(t)
	recs := records(7, 30, 700)

	c, err := clog.Create(dir+"/c.log", 8<<20, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Append([]byte("discarded")); err != nil {
		t.Fatal(err)
	}
	c.Rewind()
	var want []byte
	for i, r := range recs {
		if i%2 == 0 {
			if err := c.Appendv(r[:len(r)/2], nil, r[len(r)/2:]); err != nil {
				t.Fatal(err)
			}
		} else {
			if err := c.Append(r); err != nil {
				t.Fatal(err)
			}
		}
		want = append(want, r...)
	}
	if err := c.Appendv(); err != nil {
		t.Fatal(err)
	}
	cContent, calls := c.Content(100)
	if got, want := cContent, want; !bytes.Equal(got, want) {
		t.Errorf("cContent = %q, want %q", got, want)
	}
	if got, want := calls, (len(want)+99)/100; got != want {
		t.Errorf("calls = %v, want %v", got, want)
	}
	if got, want := c.Tell(), int64(len(want)); got != want {
		t.Errorf("c.Tell() = %v, want %v", got, want)
	}
	cNBytes := c.NBytes()
	c.Close()
	if got, want := clog.Check(dir+"/c.log"), 1; got != want {
		t.Errorf("got = %v, want %v", got, want)
	}

	l, err := Open(dir+"/c.log", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := goContent(t, l), want; !bytes.Equal(got, want) {
		t.Errorf("goContent(t, l) = %q, want %q", got, want)
	}
	if got, want := l.NBytes(), cNBytes; got != want {
		t.Errorf("l.NBytes() = %v, want %v", got, want)
	}
	if err := l.Appendv([]byte("go "), []byte("tail")); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	c, err = clog.Open(dir + "/c.log")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := c.Content(0)
	if got, want := got, append(bytes.Clone(want), "go tail"...); !bytes.Equal(got, want) {
		t.Errorf("got = %q, want %q", got, want)
	}
	c.Close()

	// A full log refuses appends in both, the same way.
	for _, impl := range []string{"c", "go"} {
		path := dir + "/full-" + impl + ".log"
		var appendFn func([]byte) error
		var nbytes int64
		if impl == "c" {
			c, err := clog.Create(path, MinPoolSize, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			appendFn, nbytes = c.Append, c.NBytes()
		} else {
			l, err := Create(path, MinPoolSize, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			appendFn, nbytes = l.Append, l.NBytes()
		}
		if err := appendFn(make([]byte, nbytes+1)); err == nil {
			t.Errorf("%v: no error", impl)
		}
		if err := appendFn(make([]byte, nbytes)); err != nil {
			t.Fatalf("%v: %v", impl, err)
		}
		if err := appendFn(nil); err == nil {
			t.Errorf("%v: no error", impl+": empty append to a full log "+strconv.FormatInt(nbytes, 10))
		}
	}
}
