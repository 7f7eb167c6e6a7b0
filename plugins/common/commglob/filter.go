package commglob

import "fmt"

// MaxNames bounds the exact names (after brace expansion), the entries of
// the kernel's comm_glob_names hash.
const MaxNames = 1024

// Filter is every `comms` pattern split the way the kernel judges them:
// exact names looked up in a hash, real globs run through the automaton.
type Filter struct {
	Names []string // distinct, each at most CommLen bytes
	Globs Automaton
}

// Compile expands braces and splits the patterns into exact names and
// globs. Its errors are one line naming the pattern; callers prefix the key.
func Compile(patterns []string) (*Filter, error) {
	f := &Filter{}
	seen := map[string]bool{}
	for _, p := range patterns {
		alts, err := expandBraces(p)
		if err != nil {
			return nil, fmt.Errorf("bad glob %q: %v", p, err)
		}
		for _, alt := range alts {
			toks, err := parseGlob(alt)
			if err != nil {
				if alt != p {
					return nil, fmt.Errorf("bad glob %q: alternative %q: %v", p, alt, err)
				}
				return nil, fmt.Errorf("bad glob %q: %v", p, err)
			}
			name, exact := exactName(toks)
			if !exact {
				if err := f.Globs.add(p, toks); err != nil {
					return nil, err
				}
				continue
			}
			if seen[name] {
				continue
			}
			if len(f.Names) == MaxNames {
				return nil, fmt.Errorf("too many exact names at %q: more than %d (after brace expansion)", p, MaxNames)
			}
			seen[name] = true
			f.Names = append(f.Names, name)
		}
	}
	return f, nil
}

// Knobs say which halves the kernel runs, and carry the automaton.
func (f *Filter) Knobs() map[string]any {
	k := f.Globs.Knobs()
	k["comm_glob_has_names"] = len(f.Names) > 0
	k["comm_glob_has_globs"] = f.Globs.states > 0
	return k
}
