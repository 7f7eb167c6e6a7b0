package syscall

import (
	"fmt"
	"strings"

	"github.com/influxdata/telegraf/filter"
)

// commLen is the kernel's TASK_COMM_LEN: 15 characters and a NUL.
const commLen = 16

// Telegraf's glob syntax: a pattern without globStart is a plain name;
// within a glob, globMeta all have a meaning.
const (
	globStart = "*?["
	globMeta  = `*?[]{}\`
)

// commPatterns splits the `comms` globs by how the kernel can match them:
// exact names and `prefix*` patterns by one LPM trie lookup; any other glob
// needs a per-comm verdict that user space computes.
type commPatterns struct {
	exact    []string
	prefixes []string
	general  []filter.Filter
	all      []filter.Filter // every pattern, for verdicts
}

func parseComms(patterns []string) (*commPatterns, error) {
	cp := &commPatterns{}
	for _, p := range patterns {
		if p == "" {
			return nil, fmt.Errorf("empty pattern")
		}
		// One at a time: telegraf treats braces as glob syntax only when a
		// sibling pattern is a glob.
		f, err := filter.Compile([]string{p})
		if err != nil {
			return nil, fmt.Errorf("bad glob %q: %v", p, err)
		}
		cp.all = append(cp.all, f)
		prefix, isPrefix := strings.CutSuffix(p, "*")
		switch {
		case !strings.ContainsAny(p, globStart):
			if len(p) >= commLen {
				return nil, fmt.Errorf("%q is longer than a task comm (%d characters): it never matches", p, commLen-1)
			}
			cp.exact = append(cp.exact, p)
		case isPrefix && !strings.ContainsAny(prefix, globMeta):
			if len(prefix) >= commLen {
				return nil, fmt.Errorf("%q: prefix longer than a task comm (%d characters): it never matches", p, commLen-1)
			}
			cp.prefixes = append(cp.prefixes, prefix)
		default:
			if n := minMatchLen(p); n >= commLen {
				return nil, fmt.Errorf("%q needs at least %d characters, but a task comm has at most %d: it never matches", p, n, commLen-1)
			}
			cp.general = append(cp.general, f)
		}
	}
	return cp, nil
}

// minMatchLen is the length of the shortest name glob p matches: `*`
// counts 0, `?`, a class `[...]` and `\x` one each, `{a,b}` its shortest
// alternative.
func minMatchLen(p string) int {
	n, _ := minMatchLenUntil(p, "")
	return n
}

// minMatchLenUntil measures p up to the first of stops at brace depth 0 and
// returns the length and the bytes consumed.
func minMatchLenUntil(p, stops string) (n, used int) {
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case strings.IndexByte(stops, c) >= 0:
			return n, i
		case c == '*':
		case c == '\\':
			i++
			n++
		case c == '[':
			if end := strings.IndexByte(p[i+1:], ']'); end >= 0 {
				i += end + 1 // a class is one character; ']' right after '[' is an edge telegraf rejects
			}
			n++
		case c == '{':
			shortest := -1
			for i++; i < len(p); {
				alt, used := minMatchLenUntil(p[i:], ",}")
				if shortest < 0 || alt < shortest {
					shortest = alt
				}
				i += used
				if i >= len(p) || p[i] == '}' {
					break
				}
				i++ // past ','
			}
			n += max(shortest, 0)
		default:
			n++
		}
	}
	return n, len(p)
}

// needVerdicts says whether some comm can only be judged in user space.
func (cp *commPatterns) needVerdicts() bool { return len(cp.general) > 0 }

// match applies every pattern to comm.
func (cp *commPatterns) match(comm string) bool {
	for _, f := range cp.all {
		if f.Match(comm) {
			return true
		}
	}
	return false
}

// trieMatches says whether an exact or prefix pattern already decides comm.
func (cp *commPatterns) trieMatches(comm string) bool {
	for _, e := range cp.exact {
		if e == comm {
			return true
		}
	}
	for _, p := range cp.prefixes {
		if strings.HasPrefix(comm, p) {
			return true
		}
	}
	return false
}

func (cp *commPatterns) verdict(comm string) uint8 {
	if cp.match(comm) {
		return verdictInclude
	}
	return verdictExclude
}
