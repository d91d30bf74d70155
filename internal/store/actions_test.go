package store_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/store"
)

// TestAuditActionsComplete checks that AuditActions lists every Action*
// constant once, sorted, and that the product's code names audit actions
// only by those constants: GET /api/v1/audit?action= refuses an action
// not in the list, so an action written as a bare string would be one
// nobody could filter by.
func TestAuditActionsComplete(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "store.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var consts []string
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.CONST {
			for _, sp := range g.Specs {
				vs := sp.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if strings.HasPrefix(n.Name, "Action") && i < len(vs.Values) {
						v, _ := strconv.Unquote(vs.Values[i].(*ast.BasicLit).Value)
						consts = append(consts, v)
					}
				}
			}
		}
	}
	slices.Sort(consts)
	if !slices.Equal(consts, store.AuditActions) {
		t.Errorf("AuditActions = %q; want every Action constant once, sorted: %q", store.AuditActions, consts)
	}

	root := filepath.Join("..", "..")
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "storetest" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		file, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(file, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok || !isAuditEvent(lit.Type) {
				return true
			}
			for _, el := range lit.Elts {
				kv, ok := el.(*ast.KeyValueExpr)
				if k, _ := kv.Key.(*ast.Ident); !ok || k == nil || k.Name != "Action" {
					continue
				}
				if bl, ok := kv.Value.(*ast.BasicLit); ok {
					t.Errorf("%s: audit action %s written as a string; add a store.Action constant (and to AuditActions)", fset.Position(bl.Pos()), bl.Value)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func isAuditEvent(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.SelectorExpr:
		id, ok := x.X.(*ast.Ident)
		return ok && id.Name == "store" && x.Sel.Name == "AuditEvent"
	case *ast.Ident:
		return x.Name == "AuditEvent"
	}
	return false
}
