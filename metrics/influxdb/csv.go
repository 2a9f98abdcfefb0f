package influxdb

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// First is what an annotated CSV answer holds that the provider needs: the
// first record's _value (with its default applied) and datatype, how many
// data rows and how many distinct tables there are.
type First struct {
	Value, Type  string
	Rows, Tables int
	// Stop is the first record's _stop (the end of its range), if any.
	Stop string
}

// block is the header of one run of rows (annotations + column names).
type block struct {
	types, defaults, names []string
}

func (b *block) col(name string) int {
	for i, n := range b.names {
		if n == name {
			return i
		}
	}
	return -1
}

// FirstValue reads an annotated CSV answer of POST /api/v2/query (dialect
// annotations datatype, group, default; header row). An error table (a
// header "error,reference") or a malformed answer is an error.
func FirstValue(answer []byte) (First, error) {
	r := csv.NewReader(bytes.NewReader(answer))
	r.FieldsPerRecord = -1
	var (
		out     First
		cur     *block
		named   bool
		isError bool
		tables  = map[string]bool{}
		line    int
	)
	for {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line++
		if err != nil {
			return First{}, fmt.Errorf("malformed annotated CSV: %w", err)
		}
		if len(row) <= 1 {
			continue // the blank line between tables
		}
		if strings.HasPrefix(row[0], "#") {
			if cur == nil || named {
				cur, named, isError = &block{}, false, false
			}
			cells := append([]string(nil), row[1:]...)
			switch row[0] {
			case "#datatype":
				cur.types = cells
			case "#default":
				cur.defaults = cells
			}
			continue
		}
		if cur == nil {
			return First{}, fmt.Errorf("malformed annotated CSV: line %d comes before any annotation", line)
		}
		if row[0] != "" {
			return First{}, fmt.Errorf("malformed annotated CSV: line %d starts with %q", line, row[0])
		}
		cells := row[1:]
		if !named {
			if cur.types == nil {
				return First{}, fmt.Errorf("malformed annotated CSV: no #datatype annotation before line %d", line)
			}
			if len(cells) != len(cur.types) {
				return First{}, fmt.Errorf("malformed annotated CSV: line %d has %d columns, the annotations %d", line, len(cells), len(cur.types))
			}
			cur.names = append([]string(nil), cells...)
			named = true
			isError = len(cells) >= 1 && cells[0] == "error"
			continue
		}
		if len(cells) != len(cur.names) {
			return First{}, fmt.Errorf("malformed annotated CSV: line %d has %d columns, the header %d", line, len(cells), len(cur.names))
		}
		if isError {
			msg := cells[0]
			if msg == "" {
				msg = "unknown query error"
			}
			if len(cells) > 1 && cells[1] != "" {
				msg += " (reference " + cells[1] + ")"
			}
			return First{}, fmt.Errorf("the server reported a query error: %s", msg)
		}
		cell := func(i int) string {
			if i < 0 {
				return ""
			}
			if cells[i] == "" && i < len(cur.defaults) {
				return cur.defaults[i]
			}
			return cells[i]
		}
		key := fmt.Sprintf("%p", cur)
		if t := cur.col("table"); t >= 0 {
			key = cell(cur.col("result")) + "\x00" + cell(t)
		}
		tables[key] = true
		out.Rows++
		if out.Rows == 1 {
			out.Stop = cell(cur.col("_stop"))
			if v := cur.col("_value"); v >= 0 {
				out.Value = cell(v)
				if v < len(cur.types) {
					out.Type = cur.types[v]
				}
			}
		}
	}
	out.Tables = len(tables)
	return out, nil
}

// parseDouble reads a Flux double ("NaN", "+Inf" and "-Inf" included).
func parseDouble(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a double: %w", s, err)
	}
	return v, nil
}
