// Package commglob compiles the `comms` globs of the syscall and runq probes
// into the automaton bpf/headers/comm_glob.bpf.h runs in the kernel, so
// both probes accept the same patterns, refuse the same ones with the same
// words, and judge a comm from its first event.
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
// Braces are refused rather than taken literally: telegraf's globs read
// "{a,b}" as alternatives, which one pattern per alternative expresses.
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
		case '{':
			return nil, errors.New("braces are not supported: list each alternative as a pattern of its own, or write \\{ for the character")
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

// Automaton is the kernel's view of all patterns at once (see
// bpf/headers/comm_glob.bpf.h).
type Automaton struct {
	Start, Star, Accept uint64
	Chars               [256]uint64
}

// Compile packs every pattern into one shift-and automaton. Its errors are
// one line naming the pattern; callers prefix the key.
func Compile(patterns []string) (*Automaton, error) {
	a := &Automaton{}
	base := 0
	for _, p := range patterns {
		toks, err := parseGlob(p)
		if err != nil {
			return nil, fmt.Errorf("bad glob %q: %v", p, err)
		}
		if need := base + len(toks) + 1; need > States {
			return nil, fmt.Errorf("too many pattern tokens at %q: the patterns up to it need %d states (one per character, `?`, class or star, plus one each), the kernel's matcher has %d", p, need, States)
		}
		a.Start |= 1 << base
		if toks[0].star {
			a.Start |= 1 << (base + 1)
		}
		for j, t := range toks {
			bit := uint64(1) << (base + j)
			if t.star {
				a.Star |= bit
				continue
			}
			for b, ok := range t.bytes {
				if ok {
					a.Chars[b] |= bit
				}
			}
		}
		a.Accept |= 1 << (base + len(toks))
		base += len(toks) + 1
	}
	return a, nil
}

// Knobs are the automaton as the kernel's comm_glob_* variables, for
// hooks.SetKnobs.
func (a *Automaton) Knobs() map[string]any {
	return map[string]any{
		"comm_glob_start":  a.Start,
		"comm_glob_star":   a.Star,
		"comm_glob_accept": a.Accept,
		"comm_glob_chars":  a.Chars,
	}
}
