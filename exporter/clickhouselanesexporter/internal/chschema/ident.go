package chschema

import "strings"

// Ident quotes name as a ClickHouse identifier with backticks. Backslashes and backticks inside
// are escaped, so any string — including one holding quotes, dots or newlines — stays one name.
func Ident(name string) string {
	var b strings.Builder
	b.Grow(len(name) + 2)
	b.WriteByte('`')
	for i := 0; i < len(name); i++ {
		switch c := name[i]; c {
		case '\\', '`':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('`')
	return b.String()
}

// qualified returns `db`.`table`.
func qualified(db, table string) string { return Ident(db) + "." + Ident(table) }
