package crashsim_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
)

// recordSample records a short program: a store flushed and fenced, a
// marked Memmove over three lines, a flush of an unchanged line, a store
// flushed but never fenced and one never flushed.
func recordSample(t testing.TB) (*crashsim.Device, *crashsim.StoreLog) {
	t.Helper()
	img := make([]byte, 1000)
	copy(img[64:], "base content")
	d, err := crashsim.NewDeviceFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	m := d.Map()
	b := m.Bytes()
	if err := d.StartRecording(); err != nil {
		t.Fatal(err)
	}
	if err := d.StartRecording(); !errors.Is(err, crashsim.ErrRecording) {
		t.Fatalf("second StartRecording: %v, want ErrRecording", err)
	}
	copy(b[100:], "0123456789")
	m.Flush(b[100:110])
	m.Drain()
	crashsim.Mark(m, "COPY.BEGIN")
	m.Memmove(b[190:], bytes.Repeat([]byte{7}, 130), 0)
	crashsim.Mark(m, "COPY.END")
	crashsim.Mark(m, "bad\nname")
	m.Flush(b[100:101]) // unchanged since it was recorded: no store
	b[992] = 9          // the device's last line ends at byte 1000
	m.Flush(b[992:993])
	b[500] = 1 // never flushed
	l, err := d.StopRecording()
	if err == nil {
		t.Error("StopRecording: no error for an invalid marker")
	}
	if l == nil {
		t.Fatal("StopRecording: no log")
	}
	return d, l
}

func TestRecordStores(t *testing.T) {
	d, l := recordSample(t)
	if l.Size != 1000 {
		t.Errorf("size %d, want 1000", l.Size)
	}
	if len(l.Base) != 1 || l.Base[0].Off != 64 || len(l.Base[0].Data) != 64 {
		t.Errorf("base %v, want the line at 64", l.Base)
	}
	var got []string
	for _, o := range l.Ops {
		got = append(got, o.String())
	}
	want := []string{
		"store 0x60+16", // words 96..112 hold bytes 100..109
		"fence",
		"marker COPY.BEGIN",
		"store 0xb8+8", // 190..191 in the word at 184
		"store 0xc0+64",
		"store 0x100+64",
		"fence",
		"marker COPY.END",
		"store 0x3e0+8",
	}
	if !slices.Equal(got, want) {
		t.Errorf("ops\n%q\nwant\n%q", got, want)
	}
	// The base and every store replayed give the working memory but for
	// the never flushed byte.
	img := l.Image()
	for _, o := range l.Ops {
		if o.Kind == crashsim.OpStore {
			copy(img[o.Off:], o.Data)
		}
	}
	work := bytes.Clone(d.Map().Bytes())
	work[500] = 0
	if !bytes.Equal(img, work) {
		t.Error("replayed stores differ from the working memory")
	}
	if l.Stores() != 5 {
		t.Errorf("Stores() = %d, want 5", l.Stores())
	}

	enc, err := l.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var dec crashsim.StoreLog
	if err := dec.UnmarshalBinary(enc); err != nil {
		t.Fatal(err)
	}
	again, err := dec.MarshalBinary()
	if err != nil || !bytes.Equal(again, enc) {
		t.Fatalf("re-encoding differs (%v)", err)
	}
	for n := range len(enc) - 1 {
		if err := dec.UnmarshalBinary(enc[:n]); !errors.Is(err, crashsim.ErrStoreLog) {
			t.Fatalf("truncated to %d bytes: %v, want ErrStoreLog", n, err)
		}
	}
}

func TestRecordSettleAndLoad(t *testing.T) {
	d, err := crashsim.NewDevice(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.StartRecording(); err != nil {
		t.Fatal(err)
	}
	b := d.Map().Bytes()
	b[10], b[3000] = 1, 2
	d.Settle()
	l, err := d.StopRecording()
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Base) != 0 || len(l.Ops) != 3 || l.Ops[2].Kind != crashsim.OpFence {
		t.Errorf("ops %v, want two stores and a fence", l.Ops)
	}
	if l, err := d.StopRecording(); l != nil || err != nil {
		t.Errorf("StopRecording when not recording: %v, %v", l, err)
	}
	crashsim.Mark(d.Map(), "ignored") // not recording: nothing happens

	img := make([]byte, 4096)
	img[5] = 5
	if err := d.Load(img); err != nil {
		t.Fatal(err)
	}
	if m := d.Map(); m.Bytes()[5] != 5 || m.Bytes()[10] != 0 || d.Durable()[5] != 5 || d.Fences() != 0 {
		t.Error("Load did not make the image the working and durable content")
	}
	if err := d.Load(img[:100]); err == nil {
		t.Error("Load of a short image: no error")
	}
	// A marker on a Map of another persist path does nothing.
	crashsim.Mark(core.NewMemoryMap(make([]byte, 64), core.GranularityCacheLine, d, nil), "x")
}

// FuzzStoreLog decodes arbitrary bytes: an error or a log whose encoding
// is the input (the encoding is canonical), never a panic.
func FuzzStoreLog(f *testing.F) {
	_, l := recordSample(f)
	enc, err := l.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(enc)
	f.Add([]byte("GOPMSLOG"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var l crashsim.StoreLog
		if err := l.UnmarshalBinary(b); err != nil {
			if !errors.Is(err, crashsim.ErrStoreLog) {
				t.Fatalf("error %v does not wrap ErrStoreLog", err)
			}
			return
		}
		again, err := l.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded log does not encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatal("re-encoding differs from the input")
		}
	})
}
