package commglob

import "fmt"

// Automaton is the kernel's view of all real globs at once (see
// bpf/headers/comm_glob.bpf.h).
type Automaton struct {
	Start, Star, Accept uint64
	Chars               [256]uint64
	states              int // taken so far
}

// add packs one glob's tokens after the ones already in.
func (a *Automaton) add(pattern string, toks []token) error {
	base := a.states
	if need := base + len(toks) + 1; need > States {
		return fmt.Errorf("too many pattern tokens at %q: the globs up to it need %d states (one per character, `?`, class or star, plus one each; exact names take none), the kernel's matcher has %d", pattern, need, States)
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
	a.states = base + len(toks) + 1
	return nil
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
