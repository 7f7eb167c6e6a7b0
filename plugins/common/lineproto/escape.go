package lineproto

import "strings"

// The serializer's escapes: tag keys and values and field keys; measurement
// names (= kept); string field values.
var (
	keyEscaper = strings.NewReplacer("\t", `\t`, "\n", `\n`, "\f", `\f`, "\r", `\r`,
		",", `\,`, " ", `\ `, "=", `\=`)
	nameEscaper = strings.NewReplacer("\t", `\t`, "\n", `\n`, "\f", `\f`, "\r", `\r`,
		",", `\,`, " ", `\ `)
	stringEscaper = strings.NewReplacer(`"`, `\"`, `\`, `\\`)
)

// Bytes each kind of text escapes: a table lookup per byte, where
// strings.ContainsAny builds its set on every call (a tenth of a gather).
var keyBytes, nameBytes, stringBytes = byteSet("\t\n\f\r ,="), byteSet("\t\n\f\r ,"), byteSet("\t\n\f\r\\\"")

type bytes256 [256]bool

func byteSet(chars string) *bytes256 {
	var set bytes256
	for i := range len(chars) {
		set[chars[i]] = true
	}
	return &set
}

func (set *bytes256) any(s string) bool {
	for i := range len(s) {
		if set[s[i]] {
			return true
		}
	}
	return false
}

func escape(s string) string {
	if keyBytes.any(s) {
		return keyEscaper.Replace(s)
	}
	return s
}

func nameEscape(s string) string {
	if nameBytes.any(s) {
		return nameEscaper.Replace(s)
	}
	return s
}

func stringFieldEscape(s string) string {
	if stringBytes.any(s) {
		return stringEscaper.Replace(s)
	}
	return s
}

// trimTag drops trailing backslashes, which line protocol cannot end a tag
// key or value with (the serializer does the same, after escaping).
func trimTag(s string) string { return strings.TrimRight(s, `\`) }
