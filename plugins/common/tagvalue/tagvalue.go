// Package tagvalue turns strings the kernel hands us (task comms, device,
// binary and cgroup names) into tag values that survive telegraf's line
// protocol and Prometheus: never empty, always valid UTF-8, never ending in a
// backslash, and one per source value (Escape is injective: Unescape inverts
// it), so two tasks never share a series and none loses its tag.
//
// The rule:
//   - printable characters (Unicode letters, marks, numbers, punctuation,
//     symbols, the ASCII space) are kept as they are, backslash excepted;
//   - a backslash, and every byte of anything else (control characters such
//     as tab or newline, DEL, non-printable runes, bytes that are not valid
//     UTF-8), becomes `\xNN`, NN its two lowercase hex digits;
//   - the empty string becomes Empty (`\empty`);
//   - a value that would read exactly as a reserved tag value (Folded,
//     "other") has its first byte escaped (`\x6fther`).
//
// Every backslash Escape writes starts a `\xNN` escape, so Empty, which
// starts with `\e`, and Folded, which no value escapes to, cannot be produced
// by any source value.
package tagvalue

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	// Folded is the tag value of the series that gathers what a cardinality
	// cap folds away. No escaped value equals it.
	Folded = "other"
	// Empty stands for an empty source value (a task that named itself "").
	Empty = `\empty`
)

const hexDigits = "0123456789abcdef"

// Escape returns the tag value of kernel string s.
func Escape(s string) string {
	if s == "" {
		return Empty
	}
	if s == Folded {
		return `\x` + hexByte(s[0]) + s[1:]
	}
	if plain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r != '\\' && (r != utf8.RuneError || size > 1) && unicode.IsPrint(r) {
			b.WriteString(s[i : i+size])
		} else {
			for j := i; j < i+size; j++ {
				b.WriteString(`\x`)
				b.WriteString(hexByte(s[j]))
			}
		}
		i += size
	}
	return b.String()
}

// FromC escapes a NUL-terminated kernel buffer (a comm), ending at its first
// NUL or at its end.
func FromC(buf []byte) string {
	if i := strings.IndexByte(string(buf), 0); i >= 0 {
		buf = buf[:i]
	}
	return Escape(string(buf))
}

// plain says whether s is printable ASCII without a backslash: kept as is.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == '\\' {
			return false
		}
	}
	return true
}

func hexByte(c byte) string {
	return string([]byte{hexDigits[c>>4], hexDigits[c&0xf]})
}

// ErrNotEscaped says a string is not something Escape produces.
var ErrNotEscaped = errors.New("not an escaped tag value")

// Unescape returns the source value of tag value v: the inverse of Escape.
// Folded is not the image of any value and is refused like any other string
// Escape cannot produce.
func Unescape(v string) (string, error) {
	switch v {
	case Empty:
		return "", nil
	case Folded, "":
		return "", ErrNotEscaped
	}
	var b strings.Builder
	for i := 0; i < len(v); {
		if v[i] != '\\' {
			b.WriteByte(v[i])
			i++
			continue
		}
		if i+4 > len(v) || v[i+1] != 'x' {
			return "", ErrNotEscaped
		}
		hi, lo := strings.IndexByte(hexDigits, v[i+2]), strings.IndexByte(hexDigits, v[i+3])
		if hi < 0 || lo < 0 {
			return "", ErrNotEscaped
		}
		b.WriteByte(byte(hi<<4 | lo))
		i += 4
	}
	s := b.String()
	if Escape(s) != v {
		return "", ErrNotEscaped // a kept byte that should have been escaped, or the reverse
	}
	return s, nil
}
