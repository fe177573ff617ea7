package pmreorder_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
	"github.com/gopmdk/pmdk/tools/pmreorder"
)

// A program commits a record by storing its payload and then setting a
// valid flag, but forgets to flush the payload. Recorded on a crash
// simulator device and replayed, the image after the flag's fence has the
// flag without the payload.
func Example() {
	program := func(m *core.Map, flushPayload bool) {
		b := m.Bytes()
		copy(b[64:], "payload")
		if flushPayload {
			m.Flush(b[64:71])
		}
		m.Drain()
		b[0] = 1 // the valid flag
		m.Persist(b[0:1])
	}
	check := func(m *core.Map) error {
		if b := m.Bytes(); b[0] == 1 && string(b[64:71]) != "payload" {
			return errors.New("valid flag without its payload")
		}
		return nil
	}
	for _, flush := range []bool{false, true} {
		d, _ := crashsim.NewDevice(4096)
		d.StartRecording()
		program(d.Map(), flush)
		log, _ := d.StopRecording()
		d.Close()
		res, err := pmreorder.Replay(context.Background(), log, pmreorder.Config{Default: pmreorder.ReorderFull, Check: check})
		switch {
		case err != nil:
			fmt.Println(err)
		case res.Inconsistent != nil:
			fmt.Print(res.Inconsistent)
		default:
			fmt.Printf("with the flush: consistent, %d images checked\n", res.Images)
		}
	}
	// Output:
	// inconsistent image at fence 2 (engine ReorderFull): valid flag without its payload
	// 1 of the 1 stores flushed since the previous fence, in this order:
	//   store [0]: op 1: store 0x0+8
	// with the flush: consistent, 4 images checked
}
