//go:build cgo

// Package cslot compiles the kernel's slot math, bpf/headers/histogram.bpf.h,
// for the host, so tests check the C the probes run rather than a Go copy.
// The headers are included through symlinks in this directory: go's build
// cache hashes a package's own .h files, not those found through -I, so an
// edit of the C rebuilds this package.
package cslot

/*
#cgo CFLAGS: -Wall -Werror
#include <stdint.h>
typedef uint64_t __u64;
typedef uint32_t __u32;
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#define HIST_SLOT_MATH_ONLY
#include "histogram.bpf.h"

static uint32_t slot_log2(uint64_t ns) { return hist_slot_log2(ns); }
static uint32_t slot_log2x4(uint64_t ns) { return hist_slot_log2x4(ns); }
*/
import "C"

// Available says the C was compiled in (cgo and a C compiler were there).
const Available = true

// Log2 is hist_slot_log2(ns).
func Log2(ns uint64) int { return int(C.slot_log2(C.uint64_t(ns))) }

// Log2x4 is hist_slot_log2x4(ns).
func Log2x4(ns uint64) int { return int(C.slot_log2x4(C.uint64_t(ns))) }
