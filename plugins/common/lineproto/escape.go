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

func escape(s string) string {
	if strings.ContainsAny(s, "\t\n\f\r ,=") {
		return keyEscaper.Replace(s)
	}
	return s
}

func nameEscape(s string) string {
	if strings.ContainsAny(s, "\t\n\f\r ,") {
		return nameEscaper.Replace(s)
	}
	return s
}

func stringFieldEscape(s string) string {
	if strings.ContainsAny(s, "\t\n\f\r\\\"") {
		return stringEscaper.Replace(s)
	}
	return s
}

// trimTag drops trailing backslashes, which line protocol cannot end a tag
// key or value with (the serializer does the same, after escaping).
func trimTag(s string) string { return strings.TrimRight(s, `\`) }
