package templates

import "strings"

// isSpace reports whether c is in RE2's \s class: [\t\n\f\r ]. Vertical tab
// and non-ASCII spaces are not in it, exactly as with Flagger's regexp.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

// Collapse replaces every run of whitespace ([\t\n\f\r ]) with one space, as
// Flagger's Prometheus provider does with regexp `\s+` before sending a
// query. Like Flagger it does not trim: a leading or trailing run becomes one
// space. Collapse returns q itself when nothing changes.
func Collapse(q string) string {
	// Find the first byte that has to change: a non-space whitespace byte,
	// or a space that follows whitespace.
	i := 0
	for ; i < len(q); i++ {
		c := q[i]
		if !isSpace(c) {
			continue
		}
		if c != ' ' || (i+1 < len(q) && isSpace(q[i+1])) {
			break
		}
	}
	if i == len(q) {
		return q
	}
	var b strings.Builder
	b.Grow(len(q))
	b.WriteString(q[:i])
	inSpace := false
	for ; i < len(q); i++ {
		c := q[i]
		if isSpace(c) {
			if !inSpace {
				b.WriteByte(' ')
				inSpace = true
			}
			continue
		}
		inSpace = false
		b.WriteByte(c)
	}
	return b.String()
}
