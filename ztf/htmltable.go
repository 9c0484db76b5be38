package ztf

import (
	"html"
	"strings"
)

// htmlCell is one cell of an HTML table: its text (tags removed, entities
// decoded, white space trimmed) and its raw inner HTML.
type htmlCell struct {
	Text   string
	Raw    string
	Header bool // a <th>
}

// htmlTables extracts the tables of an HTML page as rows of cells. It is a
// small tolerant scanner for the ZFPS pages (spec B.1, B.3), not a full
// HTML parser: it understands <table>, <tr>, <th>, <td> with or without
// their end tags, ignores every other tag and skips comments, scripts and
// styles.
func htmlTables(page string) [][][]htmlCell {
	var (
		tables [][][]htmlCell
		table  [][]htmlCell
		row    []htmlCell
		cell   *strings.Builder
		cellTh bool
		inTab  int
	)
	endCell := func() {
		if cell != nil {
			raw := cell.String()
			row = append(row, htmlCell{Text: strings.TrimSpace(htmlText(raw)), Raw: raw, Header: cellTh})
			cell = nil
		}
	}
	endRow := func() {
		endCell()
		if row != nil {
			table = append(table, row)
			row = nil
		}
	}
	endTable := func() {
		endRow()
		if table != nil {
			tables = append(tables, table)
		}
		table = nil
	}
	i := 0
	for i < len(page) {
		lt := strings.IndexByte(page[i:], '<')
		if lt < 0 {
			if cell != nil {
				cell.WriteString(page[i:])
			}
			break
		}
		if cell != nil {
			cell.WriteString(page[i : i+lt])
		}
		i += lt
		if strings.HasPrefix(page[i:], "<!--") {
			end := strings.Index(page[i:], "-->")
			if end < 0 {
				break
			}
			i += end + 3
			continue
		}
		gt := strings.IndexByte(page[i:], '>')
		if gt < 0 {
			break
		}
		tag := page[i : i+gt+1]
		i += gt + 1
		name, closing := tagName(tag)
		switch name {
		case "script", "style":
			if !closing {
				end := strings.Index(strings.ToLower(page[i:]), "</"+name)
				if end < 0 {
					i = len(page)
				} else {
					i += end
				}
			}
			continue
		case "table":
			if closing {
				if inTab > 0 {
					inTab--
					if inTab == 0 {
						endTable()
					}
				}
			} else {
				inTab++
				if inTab == 1 {
					table = nil
				}
			}
			continue
		}
		if inTab != 1 {
			if cell != nil {
				cell.WriteString(tag)
			}
			continue
		}
		switch name {
		case "tr":
			endRow()
			if !closing {
				row = []htmlCell{}
			}
		case "td", "th":
			endCell()
			if !closing {
				if row == nil {
					row = []htmlCell{}
				}
				cell = &strings.Builder{}
				cellTh = name == "th"
			}
		case "br", "p":
			if cell != nil {
				cell.WriteString(" ")
			}
		default:
			if cell != nil {
				cell.WriteString(tag)
			}
		}
	}
	if inTab > 0 {
		endTable()
	}
	return tables
}

// tagName returns the lower-case name of a tag like "<td class=x>" or
// "</TR>", and whether it is an end tag.
func tagName(tag string) (string, bool) {
	t := strings.TrimPrefix(tag, "<")
	t = strings.TrimSuffix(t, ">")
	closing := strings.HasPrefix(t, "/")
	t = strings.TrimPrefix(t, "/")
	end := strings.IndexAny(t, " \t\r\n/")
	if end >= 0 {
		t = t[:end]
	}
	return strings.ToLower(t), closing
}

// htmlText removes tags (and comments, scripts and styles) from an HTML
// fragment and decodes entities.
func htmlText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return s
	}
	var b strings.Builder
	i := 0
	for i < len(s) {
		lt := strings.IndexByte(s[i:], '<')
		if lt < 0 {
			b.WriteString(s[i:])
			break
		}
		b.WriteString(s[i : i+lt])
		i += lt
		if strings.HasPrefix(s[i:], "<!--") {
			end := strings.Index(s[i:], "-->")
			if end < 0 {
				break
			}
			i += end + 3
			continue
		}
		gt := strings.IndexByte(s[i:], '>')
		if gt < 0 {
			b.WriteString(s[i:])
			break
		}
		name, closing := tagName(s[i : i+gt+1])
		i += gt + 1
		if (name == "script" || name == "style") && !closing {
			end := strings.Index(strings.ToLower(s[i:]), "</"+name)
			if end < 0 {
				break
			}
			i += end
			continue
		}
		b.WriteByte(' ')
	}
	return html.UnescapeString(b.String())
}
