package panstarrs

import (
	"errors"
	"strings"
)

// errUnterminatedQuote reports a quoted CSV field that does not end on its
// line (MAST's CSV never holds line breaks inside fields).
var errUnterminatedQuote = errors.New("quoted field does not end on this line")

// splitCSV splits one CSV line (without its line break) into fields,
// appending them to dst[:0]. Unquoted fields are substrings of line (no
// allocation); a quoted field ("a,b", with "" for a quote) is unquoted.
func splitCSV(line string, dst []string) ([]string, error) {
	dst = dst[:0]
	if strings.IndexByte(line, '"') < 0 {
		for {
			i := strings.IndexByte(line, ',')
			if i < 0 {
				return append(dst, line), nil
			}
			dst = append(dst, line[:i])
			line = line[i+1:]
		}
	}
	for {
		if len(line) > 0 && line[0] == '"' {
			var b strings.Builder
			rest := line[1:]
			for {
				j := strings.IndexByte(rest, '"')
				if j < 0 {
					return dst, errUnterminatedQuote
				}
				b.WriteString(rest[:j])
				if j+1 < len(rest) && rest[j+1] == '"' {
					b.WriteByte('"')
					rest = rest[j+2:]
					continue
				}
				rest = rest[j+1:]
				break
			}
			dst = append(dst, b.String())
			if rest == "" {
				return dst, nil
			}
			if rest[0] != ',' {
				return dst, errors.New("text after a closing quote")
			}
			line = rest[1:]
			continue
		}
		i := strings.IndexByte(line, ',')
		if i < 0 {
			return append(dst, line), nil
		}
		dst = append(dst, line[:i])
		line = line[i+1:]
	}
}

// quoteCSV returns s as a CSV field, quoted when it must be.
func quoteCSV(s string) string {
	if !strings.ContainsAny(s, ",\"\r\n") {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// trimLine drops a trailing "\n" or "\r\n".
func trimLine(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return strings.TrimSuffix(s, "\r")
}
