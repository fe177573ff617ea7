package examples

import (
	"testing"

	"github.com/gopmdk/pmdk/core/crashsim"
)

// FuzzCheck feeds arbitrary images to every structure's Recover and Check:
// whatever the media holds, they return an error or nil, never panic.
func FuzzCheck(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x40, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Add([]byte{0xc0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, st := range Structures {
			for _, bug := range st.Bugs {
				w := st.Workload(bug)
				img := make([]byte, w.Size)
				copy(img, data)
				d, err := crashsim.NewDeviceFromImage(img)
				if err != nil {
					t.Fatal(err)
				}
				m := d.Map()
				if w.Recover != nil {
					_ = w.Recover(m)
				}
				_ = w.Check(m, crashsim.Crash{})
				d.Close()
			}
		}
	})
}

// Every structure's broken versions differ from its correct one only in
// the order of persistence: run uncut, each leaves a state its Check
// accepts.
func TestUncutRunsPass(t *testing.T) {
	for _, st := range Structures {
		for _, bug := range st.Bugs {
			t.Run(st.Name+"/"+bug.String(), func(t *testing.T) {
				w := st.Workload(bug)
				d, err := crashsim.NewDevice(w.Size)
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				m := d.Map()
				if w.Setup != nil {
					if err := w.Setup(m); err != nil {
						t.Fatal(err)
					}
				}
				if err := w.Run(m); err != nil {
					t.Fatal(err)
				}
				if w.Recover != nil {
					if err := w.Recover(m); err != nil {
						t.Fatal(err)
					}
				}
				if err := w.Check(m, crashsim.Crash{}); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}
