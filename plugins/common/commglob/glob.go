// Package commglob compiles the `comms` patterns of the syscall and runq
// probes into what bpf/headers/comm_glob.bpf.h runs in the kernel (a hash of
// exact names, an automaton for real globs), so both probes accept the same
// patterns, refuse the same ones with the same words, and judge a comm from
// its first event.
package commglob

import (
	"errors"
	"fmt"
)

// States is the width of the kernel's automaton (a __u64): every pattern
// takes one state per token (byte, `?`, class or star) plus one to accept.
const States = 64

// CommLen is the longest comm the kernel keeps (TASK_COMM_LEN - 1).
const CommLen = 15

// token is one step of a glob: `*`, or one byte out of a set.
type token struct {
	star  bool
	bytes [256]bool
}

// parseGlob reads `*` (any run, '/' included), `?` (any byte), `[a-z]`,
// `[!a-z]` or `[^a-z]` (a byte in or out of a class), `\x` (x itself).
// Consecutive stars collapse: the kernel closes over one star per step.
// Braces come expanded (expandBraces); one left here is the character.
func parseGlob(p string) ([]token, error) {
	if p == "" {
		return nil, errors.New("empty pattern")
	}
	var toks []token
	for i := 0; i < len(p); {
		var t token
		switch c := p[i]; c {
		case '*':
			i++
			if len(toks) > 0 && toks[len(toks)-1].star {
				continue
			}
			t.star = true
		case '?':
			i++
			for b := 1; b < 256; b++ {
				t.bytes[b] = true
			}
		case '[':
			n, err := parseClass(p[i:], &t)
			if err != nil {
				return nil, err
			}
			i += n
		case '\\':
			if i+1 == len(p) {
				return nil, errors.New("trailing backslash")
			}
			t.bytes[p[i+1]] = true
			i += 2
		default:
			t.bytes[c] = true
			i++
		}
		toks = append(toks, t)
	}
	fixed := 0
	for _, t := range toks {
		if !t.star {
			fixed++
		}
	}
	if fixed > CommLen {
		return nil, fmt.Errorf("needs at least %d characters, but a task comm has at most %d: it never matches", fixed, CommLen)
	}
	return toks, nil
}

// parseClass reads a bracket expression at the start of s into t and
// returns its length.
func parseClass(s string, t *token) (int, error) {
	i, negate := 1, false
	if i < len(s) && (s[i] == '!' || s[i] == '^') {
		negate, i = true, i+1
	}
	var in [256]bool
	for first := true; ; first = false {
		if i >= len(s) {
			return 0, errors.New("unclosed [")
		}
		if s[i] == ']' && !first {
			i++
			break
		}
		lo, n, err := classByte(s[i:])
		if err != nil {
			return 0, err
		}
		i += n
		hi := lo
		if i+1 < len(s) && s[i] == '-' && s[i+1] != ']' {
			if hi, n, err = classByte(s[i+1:]); err != nil {
				return 0, err
			}
			i += 1 + n
			if hi < lo {
				return 0, fmt.Errorf("bad range %c-%c", lo, hi)
			}
		}
		for b := int(lo); b <= int(hi); b++ {
			in[b] = true
		}
	}
	for b := 1; b < 256; b++ {
		t.bytes[b] = in[b] != negate
	}
	return i, nil
}

func classByte(s string) (byte, int, error) {
	if s[0] == '\\' {
		if len(s) < 2 {
			return 0, 0, errors.New("unclosed [")
		}
		return s[1], 2, nil
	}
	return s[0], 1, nil
}

// exactName is the one comm a pattern of single bytes matches.
func exactName(toks []token) (string, bool) {
	name := make([]byte, 0, len(toks))
	for _, t := range toks {
		if t.star {
			return "", false
		}
		one := -1
		for b, ok := range t.bytes {
			if ok {
				if one >= 0 {
					return "", false
				}
				one = b
			}
		}
		name = append(name, byte(one))
	}
	return string(name), true
}
