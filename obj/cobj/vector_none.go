//go:build !cpeer || !cgo

package cobj

// VectorPushN makes n push_backs into a vector in C (cpeer only).
func (p *Pool) VectorPushN(head OID, n, round int) error { return ErrUnavailable }

// VectorGetN reads n elements of a vector in C (cpeer only).
func (p *Pool) VectorGetN(head OID, n int) uint64 { return 0 }
