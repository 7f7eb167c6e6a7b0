//go:build !cgo

package cslot

// Available is false without cgo: the tests that need the C fail and say so.
const Available = false

// Log2 needs cgo.
func Log2(uint64) int { panic("cslot: built without cgo") }

// Log2x4 needs cgo.
func Log2x4(uint64) int { panic("cslot: built without cgo") }
