package commglob

import (
	"errors"
	"fmt"
)

// MaxAlternatives bounds what one pattern's braces expand to.
const MaxAlternatives = 256

var errTooManyAlternatives = fmt.Errorf("braces expand to more than %d alternatives: split the pattern", MaxAlternatives)

// expandBraces turns telegraf's `{a,b}` alternatives (nested too) into one
// pattern each, as the syscall probe accepted them before the kernel judged
// comms. Escapes and bracket classes are copied as written, so `\{` and
// `[{]` stay the character; a `}` or `,` outside braces is the character.
func expandBraces(p string) ([]string, error) {
	alts, _, err := expandSeq(p, 0, false)
	return alts, err
}

// expandSeq expands p from i up to the end, or inside braces up to the
// `,` or `}` that ends this alternative; it returns where it stopped.
func expandSeq(p string, i int, inBraces bool) ([]string, int, error) {
	alts := []string{""}
	for i < len(p) {
		var part []string
		switch c := p[i]; {
		case inBraces && (c == ',' || c == '}'):
			return alts, i, nil
		case c == '\\' && i+1 < len(p):
			part, i = []string{p[i : i+2]}, i+2
		case c == '[':
			n, err := parseClass(p[i:], &token{})
			if err != nil {
				return nil, 0, err
			}
			part, i = []string{p[i : i+n]}, i+n
		case c == '{':
			var err error
			if part, i, err = expandGroup(p, i); err != nil {
				return nil, 0, err
			}
		default:
			part, i = []string{p[i : i+1]}, i+1
		}
		if len(alts)*len(part) > MaxAlternatives {
			return nil, 0, errTooManyAlternatives
		}
		next := make([]string, 0, len(alts)*len(part))
		for _, a := range alts {
			for _, b := range part {
				next = append(next, a+b)
			}
		}
		alts = next
	}
	if inBraces {
		return nil, 0, errors.New("unclosed {")
	}
	return alts, i, nil
}

// expandGroup expands the `{...}` at p[i] into its alternatives, each
// expanded in turn, and returns them and the index past the `}`.
func expandGroup(p string, i int) ([]string, int, error) {
	var alts []string
	for {
		seq, next, err := expandSeq(p, i+1, true)
		if err != nil {
			return nil, 0, err
		}
		alts = append(alts, seq...)
		if len(alts) > MaxAlternatives {
			return nil, 0, errTooManyAlternatives
		}
		i = next
		if p[i] == '}' {
			return alts, i + 1, nil
		}
	}
}
