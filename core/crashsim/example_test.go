package crashsim_test

import (
	"errors"
	"fmt"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
)

// A record committed by a valid flag: persisted after its payload, it
// survives every crash; persisted without flushing the payload, it does not.
func Example() {
	commit := func(flushPayload bool) crashsim.Workload {
		return crashsim.Workload{
			Size: 4096,
			Run: func(m *core.Map) error {
				b := m.Bytes()
				copy(b[64:], "payload")
				if flushPayload {
					m.Persist(b[64:71])
				}
				b[0] = 1 // the valid flag
				m.Persist(b[0:1])
				return nil
			},
			Check: func(m *core.Map, c crashsim.Crash) error {
				b := m.Bytes()
				if b[0] == 1 && string(b[64:71]) != "payload" {
					return errors.New("valid record without its payload")
				}
				return nil
			},
		}
	}
	for _, ok := range []bool{true, false} {
		rep, err := crashsim.Run(commit(ok), crashsim.Options{})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("flush payload %v: %v\n", ok, rep)
		if len(rep.Failures) > 0 {
			fmt.Println(rep.Failures[0])
		}
	}
	// Output:
	// flush payload true: 2 fences, 3 crash points explored, 7 post-crash images checked, 0 failures
	// flush payload false: 1 fences, 2 crash points explored, 6 post-crash images checked, 2 failures
	// crash after the last of 1 fences, pessimistic (reproduce: crashsim.Options{Points: []int{2}, Strategies: []crashsim.Strategy{crashsim.Pessimistic}}): valid record without its payload
}
