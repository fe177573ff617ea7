package crashsim_test

import (
	"bytes"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
)

const fuzzSize = 8 * 64

// FuzzDeviceModel drives a device with an operation sequence decoded from
// the input and checks it against a plain model: after every fence the
// durable image holds each line flushed since the previous fence as it was
// at its last flush; at the crash the pessimistic image is the durable one,
// the optimistic one the working memory, and every word of a random or
// exhaustive image is one of the versions the word had.
func FuzzDeviceModel(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{0, 10, 0, 1, 70, 0, 2, 0, 0, 0, 65, 3})
	f.Fuzz(func(t *testing.T, ops []byte) {
		d, err := crashsim.NewDevice(fuzzSize)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		m := d.Map()
		mem := m.Bytes()
		durable := make([]byte, fuzzSize)
		flushed := map[int][]byte{}    // line -> content at its last flush
		versions := map[int][][]byte{} // word -> values it held since its last durable state
		note := func(off, n int) {     // record the words of [off, off+n) as written
			for w := off &^ 7; w < off+n; w += 8 {
				versions[w] = append(versions[w], bytes.Clone(mem[w:w+8]))
			}
		}
		flush := func(off, n int) {
			if n == 0 {
				return
			}
			for l := off &^ 63; l < off+n; l += 64 {
				flushed[l] = bytes.Clone(mem[l : l+64])
			}
		}
		fence := func() {
			for l, c := range flushed {
				copy(durable[l:], c)
			}
			clear(flushed)
		}
		for len(ops) >= 3 {
			op, a, n := ops[0]%6, int(ops[1])*fuzzSize/256, int(ops[2])%130
			ops = ops[3:]
			n = min(n, fuzzSize-a)
			dst := mem[a : a+n]
			switch op {
			case 0: // plain store
				for i := range dst {
					dst[i] = byte(a + i + len(ops))
				}
				note(a, n)
			case 1:
				m.Flush(dst)
				flush(a, n)
			case 2:
				m.Drain()
				fence()
			case 3:
				m.Persist(dst)
				flush(a, n)
				fence()
			case 4, 5:
				flags := core.MemFlags(0)
				if op == 5 {
					flags = core.MemNoDrain
				}
				if len(ops) > 0 && ops[0]&1 == 1 {
					flags |= core.MemNoFlush
				}
				m.Memset(dst, byte(len(ops)), flags)
				note(a, n)
				if flags&core.MemNoFlush == 0 {
					flush(a, n)
				}
				if flags&core.MemNoDrain == 0 {
					fence()
				}
			}
			if got := d.Durable(); !bytes.Equal(got, durable) {
				t.Fatalf("durable image differs from the model at byte %d", firstDiff(got, durable))
			}
		}
		d.Crash()
		if !bytes.Equal(d.CrashImage(crashsim.Pessimistic), durable) {
			t.Fatal("pessimistic image is not the durable one")
		}
		if !bytes.Equal(d.CrashImage(crashsim.Optimistic), mem) {
			t.Fatal("optimistic image is not the working memory")
		}
		allowed := func(img []byte) {
			for w := 0; w < fuzzSize; w += 8 {
				got := img[w : w+8]
				if bytes.Equal(got, durable[w:w+8]) || bytes.Equal(got, mem[w:w+8]) {
					continue
				}
				ok := false
				for _, v := range versions[w] {
					ok = ok || bytes.Equal(got, v)
				}
				if !ok {
					t.Fatalf("word at %d holds %x: never stored there", w, got)
				}
			}
		}
		allowed(d.CrashImage(crashsim.Random(int64(len(ops)))))
		seen := map[string]bool{}
		for _, img := range d.CrashImages(crashsim.Exhaustive, 32) {
			allowed(img)
			seen[string(img)] = true
		}
		// Below the limit the enumeration is complete: every image differs.
		if n := countImages(d); n < 32 && len(seen) != n {
			t.Fatalf("%d exhaustive images, %d distinct", n, len(seen))
		}
	})
}

func countImages(d *crashsim.Device) int {
	n := 0
	for range d.CrashImages(crashsim.Exhaustive, 32) {
		n++
	}
	return n
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}
