package pmreorder_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
	"github.com/gopmdk/pmdk/tools/pmreorder"
)

// FuzzReplay replays logs built from the input (stores, fences, markers
// that may not pair up) with an engine from the input, against a checker
// that rejects images whose byte 0 exceeds byte 8. Replay returns an error
// or a result, never panics; a reported inconsistency is the image of the
// stores before its fence then its sequence, and the checker rejects it.
func FuzzReplay(f *testing.F) {
	f.Add([]byte{2, 0, 0, 5, 1, 0, 8, 3, 1})
	f.Add([]byte{1, 2, 'A', 0, 0, 9, 0, 8, 1, 1, 3, 'A'})
	f.Add([]byte{5, 0, 0, 1, 0, 0, 2, 0, 8, 7, 1, 0, 0, 3})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		engine := pmreorder.Engines[int(in[0])%len(pmreorder.Engines)]
		l := &crashsim.StoreLog{Size: 200}
		for rest := in[1:]; len(rest) >= 2 && len(l.Ops) < 40; {
			op, arg := rest[0]%4, rest[1]
			rest = rest[2:]
			switch op {
			case 0: // store: offset arg, one word of the next byte
				off := int(arg) % 25 * 8
				v := byte(0)
				if len(rest) > 0 {
					v, rest = rest[0], rest[1:]
				}
				l.Ops = append(l.Ops, crashsim.Op{Kind: crashsim.OpStore, Off: off, Data: bytes.Repeat([]byte{v}, 8)})
			case 1:
				l.Ops = append(l.Ops, crashsim.Op{Kind: crashsim.OpFence})
			case 2, 3:
				suffix := ".BEGIN"
				if op == 3 {
					suffix = ".END"
				}
				l.Ops = append(l.Ops, crashsim.Op{Kind: crashsim.OpMarker, Marker: string('A'+rune(arg%3)) + suffix})
			}
		}
		check := func(m *core.Map) error {
			if b := m.Bytes(); b[0] > b[8] {
				return errors.New("byte 0 exceeds byte 8")
			}
			return nil
		}
		res, err := pmreorder.Replay(t.Context(), l, pmreorder.Config{
			Default:      engine,
			Markers:      map[string]pmreorder.Engine{"B": pmreorder.ReorderFull},
			Check:        check,
			MaxSequences: 5000,
		})
		if err != nil {
			return
		}
		x := res.Inconsistent
		if x == nil {
			return
		}
		img := l.Image()
		for _, o := range l.Ops[:x.Pending[0]] {
			if o.Kind == crashsim.OpStore {
				copy(img[o.Off:], o.Data)
			}
		}
		for _, p := range x.Sequence {
			copy(img[l.Ops[p].Off:], l.Ops[p].Data)
		}
		if !bytes.Equal(img, x.Image) {
			t.Fatal("reported image is not the stores before the fence plus the sequence")
		}
		if img[0] <= img[8] {
			t.Fatal("reported image is consistent")
		}
	})
}
