package main

import (
	"fmt"
	"io"

	"github.com/gopmdk/pmdk/core/crashsim"
	"github.com/gopmdk/pmdk/obj"
)

// account is one side of the demo's transfer.
type account struct{ Balance int64 }

// bank is the root object of the demo's crash pool.
type bank struct {
	From, To obj.Ptr[account]
}

// txCrash runs a transfer between two accounts in a transaction on the
// crash simulator, cuts the power at every fence the transaction issues,
// and shows what each post-crash image recovers to: never half a transfer,
// the sum of the balances always 150.
func txCrash(w io.Writer, _ string) error {
	const size = obj.MinPoolSize
	// A device with the pool and its two accounts, fully durable.
	base, err := crashsim.NewDeviceConfig(crashsim.DeviceConfig{Size: size, KeepOnClose: true})
	if err != nil {
		return err
	}
	defer base.Close()
	p, err := obj.CreateOnMap(base.Map(), &obj.Options{Layout: "demo-bank", Arenas: 1})
	if err != nil {
		return err
	}
	err = p.Tx(func(tx *obj.Tx) error {
		root, err := obj.RootPtr[bank](p)
		if err != nil {
			return err
		}
		r, _ := root.Get(p)
		from, fv, err := obj.TxNew[account](tx, 1)
		if err != nil {
			return err
		}
		to, tv, err := obj.TxNew[account](tx, 1)
		if err != nil {
			return err
		}
		fv.Balance, tv.Balance = 100, 50
		return obj.TxUpdate(tx, r, func(r *bank) { r.From, r.To = from, to })
	})
	if err != nil {
		return err
	}
	if err := p.Close(); err != nil {
		return err
	}
	image := base.CrashImage(crashsim.Pessimistic)

	transfer := func(dev *crashsim.Device) error {
		p, err := obj.OpenOnMap(dev.Map(), &obj.Options{Layout: "demo-bank", Arenas: 1})
		if err != nil {
			return err
		}
		root, _ := obj.RootPtr[bank](p)
		r, _ := root.Get(p)
		from, _ := r.From.Get(p)
		to, _ := r.To.Get(p)
		dev.Settle()
		err = p.Tx(func(tx *obj.Tx) error {
			if err := obj.TxSet(tx, &from.Balance, from.Balance-30); err != nil {
				return err
			}
			return obj.TxSet(tx, &to.Balance, to.Balance+30)
		})
		return err
	}
	// Count the transaction's fences once, uncut.
	dev, err := crashsim.NewDeviceConfig(crashsim.DeviceConfig{Image: image, KeepOnClose: true})
	if err != nil {
		return err
	}
	if err := transfer(dev); err != nil {
		dev.Close()
		return err
	}
	fences := dev.Fences()
	dev.Close()
	fmt.Fprintf(w, "a transfer of 30 from an account of 100 to one of 50, in one transaction: %d fences\n", fences)
	// Points 1..fences cut a fence off; fences+1 cuts the power once the
	// transaction has returned.
	for point := 1; point <= fences+1; point++ {
		dev, err := crashsim.NewDeviceConfig(crashsim.DeviceConfig{Image: image, KeepOnClose: true})
		if err != nil {
			return err
		}
		dev.CrashAt(point)
		crashed := cutOff(func() { _ = transfer(dev) })
		if point > fences {
			dev.Crash()
			crashed = true
		}
		imgs := [][]byte{dev.CrashImage(crashsim.Pessimistic), dev.CrashImage(crashsim.Optimistic)}
		dev.Close()
		if !crashed {
			return fmt.Errorf("no crash at fence %d", point)
		}
		when := fmt.Sprintf("at fence %d", point)
		if point > fences {
			when = "after the transaction returned"
		}
		line := fmt.Sprintf("  power cut %s:", when)
		for k, img := range imgs {
			from, to, err := recoverBank(img)
			if err != nil {
				return fmt.Errorf("recovery of the crash at fence %d: %w", point, err)
			}
			if from+to != 150 {
				return fmt.Errorf("crash at fence %d: the balances sum to %d", point, from+to)
			}
			state := "rolled back"
			if from == 70 {
				state = "done"
			}
			line += fmt.Sprintf(" %s %d + %d (%s)", []string{"only fenced data:", "; every store:"}[k], from, to, state)
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintln(w, "every crash point recovers to all or nothing of the transaction")
	return nil
}

// recoverBank opens a post-crash image (C's and Go's recovery run at open)
// and returns the two balances.
func recoverBank(img []byte) (from, to int64, err error) {
	dev, err := crashsim.NewDeviceConfig(crashsim.DeviceConfig{Image: img, KeepOnClose: true})
	if err != nil {
		return 0, 0, err
	}
	defer dev.Close()
	p, err := obj.OpenOnMap(dev.Map(), &obj.Options{Layout: "demo-bank"})
	if err != nil {
		return 0, 0, err
	}
	defer p.Close()
	root, err := obj.RootPtr[bank](p)
	if err != nil {
		return 0, 0, err
	}
	r, _ := root.Get(p)
	f, err := r.From.Get(p)
	if err != nil {
		return 0, 0, err
	}
	t, err := r.To.Get(p)
	if err != nil {
		return 0, 0, err
	}
	return f.Balance, t.Balance, nil
}

// cutOff runs f and reports whether the simulated power cut stopped it.
func cutOff(f func()) (crashed bool) {
	defer func() {
		if r := recover(); r != nil {
			if !crashsim.IsCrash(r) {
				panic(r)
			}
			crashed = true
		}
	}()
	f()
	return false
}
