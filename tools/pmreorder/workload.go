package pmreorder

import (
	"errors"
	"fmt"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
)

// Record runs a crash-simulator workload once on a fresh device and
// returns the store log of its Run: Setup runs first, unrecorded, and its
// result is made durable. The workload's fences are not cut off.
func Record(w crashsim.Workload) (*crashsim.StoreLog, error) {
	d, err := crashsim.NewDeviceConfig(crashsim.DeviceConfig{Size: w.Size, KeepOnClose: true})
	if err != nil {
		return nil, err
	}
	defer d.Close()
	if w.Setup != nil {
		if err := w.Setup(d.Map()); err != nil {
			return nil, fmt.Errorf("pmreorder: setup: %w", err)
		}
	}
	d.Settle()
	if err := d.StartRecording(); err != nil {
		return nil, err
	}
	runErr := w.Run(d.Map())
	l, err := d.StopRecording()
	if runErr != nil {
		return nil, fmt.Errorf("pmreorder: run: %w", runErr)
	}
	return l, err
}

// WorkloadChecker returns a checker that runs a crash-simulator
// workload's Recover (if any) and Check on each image. Check gets a zero
// [crashsim.Crash]: a replay has no crash point.
func WorkloadChecker(w crashsim.Workload) Checker {
	return func(m *core.Map) error {
		if w.Recover != nil {
			if err := w.Recover(m); err != nil {
				return fmt.Errorf("recover: %w", err)
			}
		}
		if w.Check == nil {
			return errors.New("pmreorder: workload has no Check")
		}
		return w.Check(m, crashsim.Crash{})
	}
}
