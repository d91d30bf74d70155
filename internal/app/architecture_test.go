package app

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// architecture is the module's layering (ARCHITECTURE.md) as the imports it
// allows: each package and the packages of the module it may import (tests
// excepted). Imports point down or across, never up. A new package, or a
// new import between packages, is added here on purpose, and ARCHITECTURE.md
// with it.
var architecture = []struct {
	pkg       string
	mayImport []string
}{
	// Entry points: flags, environment, signals, exit codes.
	{"cmd/cardflow", []string{"internal/app", "internal/api", "internal/counttext", "internal/keyring", "internal/spelling"}},
	{"cmd/oktaemu", []string{"internal/oktaemu"}},

	// Wiring: the one place that knows every concrete type, the storage
	// backends included.
	{"internal/app", []string{
		"internal/web", "internal/web/console", "internal/access", "internal/sso",
		"internal/flowrun", "internal/schedule", "internal/notify", "internal/events", "internal/intake", "internal/retention",
		"internal/connection", "internal/card", "internal/counttext", "internal/flow",
		"internal/okta", "internal/keyring", "internal/ratebudget", "internal/problem", "internal/outage", "internal/store",
		"internal/store/sqlite", "internal/store/postgres",
		"internal/oktaemu", // the demo's org
	}},

	// Edge: HTTP API, OAuth callback, console.
	{"internal/web", []string{"internal/api", "internal/access", "internal/sso", "internal/flowrun", "internal/intake", "internal/connection", "internal/card", "internal/counttext", "internal/flow", "internal/keyring", "internal/problem", "internal/store", "internal/timetext"}},
	{"internal/web/console", []string{"internal/web", "internal/access", "internal/sso", "internal/flowrun", "internal/intake", "internal/connection", "internal/card", "internal/counttext", "internal/flow", "internal/inputtext", "internal/keyring", "internal/problem", "internal/store", "internal/timetext"}},

	// People: roles, principals, personal tokens; single sign-on.
	{"internal/access", []string{"internal/problem", "internal/spelling", "internal/store", "internal/timetext"}},
	{"internal/sso", []string{"internal/access", "internal/keyring", "internal/problem", "internal/timetext"}},

	// Services: flow runs, the scheduler, notifications, the event intake,
	// retention.
	{"internal/flowrun", []string{"internal/notify", "internal/card", "internal/counttext", "internal/flow", "internal/problem", "internal/outage", "internal/spelling", "internal/store", "internal/timetext"}},
	{"internal/events", []string{"internal/okta", "internal/flow", "internal/notify", "internal/problem", "internal/store", "internal/timetext"}},
	// intake runs events' parts (hooks, polls, dispatch) for the enabled
	// flows of every connection: it reads flows and connections.
	{"internal/intake", []string{"internal/events", "internal/flowrun", "internal/notify", "internal/connection", "internal/card", "internal/flow", "internal/outage", "internal/problem", "internal/store"}},
	{"internal/schedule", []string{"internal/flowrun", "internal/flow", "internal/outage", "internal/store"}},
	{"internal/notify", []string{"internal/outage", "internal/spelling", "internal/store"}},
	{"internal/retention", []string{"internal/outage", "internal/store"}},

	// Domain. flow has no HTTP and no SQL (TestNoHTTPOrSQL).
	// connection reads the WWW-Authenticate challenge of a 401 with okta's
	// parser.
	{"internal/connection", []string{"internal/okta", "internal/keyring", "internal/problem", "internal/spelling", "internal/store", "internal/timetext"}},
	{"internal/card", []string{"internal/okta", "internal/counttext", "internal/inputtext", "internal/problem", "internal/outage", "internal/spelling", "internal/store"}},
	{"internal/flow", []string{"internal/counttext", "internal/inputtext", "internal/problem", "internal/spelling"}},

	// Base. inputtext is the one rule for inputs given as text; api the
	// HTTP API's request and response types, shared by web and the CLI;
	// spelling the "did you mean" of flow validation and the CLI; timetext
	// and counttext the one way a time, and a count of things, is written
	// into a text for people.
	{"internal/counttext", nil},
	{"internal/inputtext", nil},
	{"internal/spelling", nil},
	{"internal/timetext", nil},
	{"internal/api", nil},
	{"internal/okta", nil},
	{"internal/keyring", nil},
	{"internal/problem", nil},
	{"internal/outage", nil},
	{"internal/ratebudget", []string{"internal/okta", "internal/store"}},
	{"internal/store", nil},
	{"internal/store/sqlstore", []string{"internal/store", "internal/timetext"}},
	{"internal/store/sqlite", []string{"internal/store/sqlstore", "internal/store"}},
	{"internal/store/postgres", []string{"internal/store/sqlstore", "internal/store"}},

	// The emulated org shares nothing with the code it stands in for.
	{"internal/oktaemu", nil},

	// Test support, imported by tests only.
	{"internal/oktaemu/emutest", []string{"internal/oktaemu"}},
	{"internal/store/storetest", []string{"internal/store", "internal/timetext"}},
	{"internal/store/postgres/pgtest", nil},
	{"internal/store/sqlite/sqlitetest", []string{"internal/store/sqlite", "internal/store/sqlstore"}},
}

const module = "github.com/cardflow/cardflow/"

// modulePackages lists the module's packages and their non-test imports
// of the module, relative to the module path.
func modulePackages(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string][]string{}
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		var imports []string
		for _, imp := range fields[1:] {
			if rel, ok := strings.CutPrefix(imp, module); ok {
				imports = append(imports, rel)
			}
		}
		pkgs[strings.TrimPrefix(fields[0], module)] = imports
	}
	return pkgs
}

// TestArchitecture: every package of the module is in the architecture
// table and imports only what the table allows it.
func TestArchitecture(t *testing.T) {
	t.Parallel()
	pkgs := modulePackages(t)
	allowed := map[string][]string{}
	for _, a := range architecture {
		allowed[a.pkg] = a.mayImport
		if _, ok := pkgs[a.pkg]; !ok {
			t.Errorf("the architecture names %s, which does not exist; remove it from the table", a.pkg)
		}
	}
	for pkg, imports := range pkgs {
		may, ok := allowed[pkg]
		if !ok {
			t.Errorf("package %s is not in the architecture table: add it with the packages it may import (and to ARCHITECTURE.md)", pkg)
			continue
		}
		for _, imp := range imports {
			if !slices.Contains(may, imp) {
				t.Errorf("%s imports %s, which the architecture does not allow; change the code, or the table and ARCHITECTURE.md on purpose", pkg, imp)
			}
		}
	}
}

// TestNoHTTPOrSQL: flow and problem describe work and errors, not
// transports: they import neither net/http nor database/sql.
func TestNoHTTPOrSQL(t *testing.T) {
	t.Parallel()
	for _, pkg := range []string{"internal/flow", "internal/problem"} {
		out, err := exec.Command("go", "list", "-f", `{{join .Imports " "}}`, module+pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for _, imp := range strings.Fields(string(out)) {
			if imp == "net/http" || strings.HasPrefix(imp, "net/http/") || strings.HasPrefix(imp, "database/sql") {
				t.Errorf("%s imports %s", pkg, imp)
			}
		}
	}
}
