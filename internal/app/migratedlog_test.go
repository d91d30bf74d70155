package app

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/store"
)

// TestLogMigratedSaysAnUpgrade: a server whose start upgraded the
// database schema says so in its log (from, to, the migrations applied),
// where it said nothing; a new database's first schema and a current one
// log nothing.
func TestLogMigratedSaysAnUpgrade(t *testing.T) {
	for _, tt := range []struct {
		name string
		m    store.Migration
		want string
	}{
		{"upgrade", store.Migration{From: 37, To: 40, Applied: []string{"0038_a.sql", "0039_b.sql", "0040_c.sql"}},
			`level=INFO msg="upgraded the database schema" database=/data/cardflow.db from=37 to=40 applied="0038_a.sql, 0039_b.sql, 0040_c.sql"`},
		{"new database", store.Migration{From: 0, To: 40, Applied: []string{"0001_initial.sql"}}, ""},
		{"current", store.Migration{From: 40, To: 40}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			}}))
			logMigrated(log, tt.m, "/data/cardflow.db")
			if got := strings.TrimSpace(buf.String()); got != tt.want {
				t.Errorf("log %q; want %q", got, tt.want)
			}
		})
	}
}
