package flow

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps the package's dependencies pointing inward: no other
// internal package but problem, no HTTP and no SQL.
func TestImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		pf, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range pf.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			switch {
			case strings.HasPrefix(path, "github.com/cardflow/cardflow/") && path != "github.com/cardflow/cardflow/internal/problem",
				path == "net/http", strings.HasPrefix(path, "database/sql"):
				t.Errorf("%s imports %s; flow may import only internal/problem of cardflow, and neither net/http nor database/sql", f, path)
			}
		}
	}
}
