package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// table writes aligned columns.
type table struct {
	tw *tabwriter.Writer
}

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	t.row(header...)
	return t
}

// oneLine keeps a cell on its line and in its column.
var oneLine = strings.NewReplacer("\t", " ", "\n", " ")

func (t *table) row(cols ...string) {
	for i, c := range cols {
		cols[i] = oneLine.Replace(c)
	}
	fmt.Fprintln(t.tw, strings.Join(cols, "\t"))
}

func (t *table) flush() { _ = t.tw.Flush() }

// when formats a time for people in the local zone, named, so that a time
// (a flow's next run, a token's end) is not read in another zone; "-" for
// the zero time.
func when(t time.Time) string { return whenIn(t, time.Local) }

// whenIn is when in the zone loc.
func whenIn(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(loc).Format("2006-01-02 15:04:05 MST")
}

// orDash returns s, or "-" when it is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
