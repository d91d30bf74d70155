package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// warnedFlow is a scheduled flow with two warnings: the ? of its cron (line
// 4, column 11) and its timezone EST (line 5, column 15).
const warnedFlow = `name: est-nightly
on:
  schedule:
    cron: "0 2 ? * MON"
    timezone: EST
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Demo org
    input: {search: 'status eq "ACTIVE"'}
`

// TestCLIFlowWarnings: flows validate, flows store and flows run FILE
// (which stores it) print a document's warnings on stderr, "warning: FILE:LINE:COLUMN: message; remedy", after
// what they print today, and exit as they would without them; --json
// keeps stdout JSON. A refused document's warnings are printed too, once
// (not again under the error), and a document without any prints none.
func TestCLIFlowWarnings(t *testing.T) {
	s := startServerWith(t, oktaemu.Config{Devices: 2})
	s.connect(t, "Demo org")
	dir := t.TempDir()
	write := func(name, src string) string {
		t.Helper()
		file := filepath.Join(dir, name)
		if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		return file
	}
	doc := warnedFlow
	file := write("est.yaml", doc)
	wantLines := []string{
		"warning: " + file + `:4:11: cron "0 2 ? * MON": the day-of-month field's ? is read as * (every day); write * instead (? is Quartz's, not cron's)`,
		"warning: " + file + ":5:15: timezone EST is a fixed offset, UTC-5 all year, without daylight saving time",
	}
	checkWarnings := func(what, errOut string) {
		t.Helper()
		lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
		if len(lines) != len(wantLines) {
			t.Fatalf("%s: stderr\n%s\nwant %d warnings", what, errOut, len(wantLines))
		}
		for i, want := range wantLines {
			if !strings.HasPrefix(lines[i], want) {
				t.Errorf("%s: stderr line %d = %q; want it to start %q", what, i+1, lines[i], want)
			}
		}
		if !strings.Contains(errOut, "write timezone: America/New_York") {
			t.Errorf("%s: stderr\n%s\nwant EST's remedy", what, errOut)
		}
	}

	code, out, errOut := runCLI(t, s.vars, "flows", "validate", file)
	if code != exitOK || !strings.Contains(out, "flow est-nightly is valid") {
		t.Fatalf("flows validate: exit %d\n%s%s", code, out, errOut)
	}
	checkWarnings("flows validate", errOut)

	code, out, errOut = runCLI(t, s.vars, "flows", "validate", file, "--json")
	if code != exitOK || !strings.HasPrefix(out, "{") || !strings.Contains(out, `"path": "on.schedule.timezone"`) {
		t.Fatalf("flows validate --json: exit %d\n%s%s", code, out, errOut)
	}
	checkWarnings("flows validate --json", errOut)

	code, out, errOut = runCLI(t, s.vars, "flows", "store", file, "--enable")
	if code != exitOK || !strings.Contains(out, "Stored flow est-nightly") || !strings.Contains(out, "enabled") {
		t.Fatalf("flows store --enable: exit %d\n%s%s", code, out, errOut)
	}
	checkWarnings("flows store --enable", errOut)

	// flows run FILE stores the document first, and says its warnings.
	code, out, errOut = runCLI(t, s.vars, "flows", "run", file, "--no-wait")
	if code != exitOK {
		t.Fatalf("flows run --no-wait: exit %d\n%s%s", code, out, errOut)
	}
	checkWarnings("flows run", errOut)

	bad := write("bad.yaml", strings.Replace(doc, "search-devices", "search-device", 1))
	code, out, errOut = runCLI(t, s.vars, "flows", "validate", bad)
	if code != exitFailure || !strings.Contains(out, "unknown card") {
		t.Fatalf("flows validate of an invalid document: exit %d\n%s%s", code, out, errOut)
	}
	wantLines[0] = strings.Replace(wantLines[0], file, bad, 1)
	wantLines[1] = strings.Replace(wantLines[1], file, bad, 1)
	warnings, _, _ := strings.Cut(errOut, "cardflow: ")
	checkWarnings("flows validate of an invalid document", warnings)
	code, out, errOut = runCLI(t, s.vars, "flows", "store", bad)
	warnings = warningLines(errOut)
	if code != exitFailure {
		t.Fatalf("flows store of an invalid document: exit %d\n%s%s", code, out, errOut)
	}
	checkWarnings("flows store of an invalid document", warnings)
	// Said once: the error under them does not list them again.
	if n := strings.Count(errOut, "timezone EST is a fixed offset"); n != 1 {
		t.Errorf("flows store of an invalid document: stderr says EST's warning %d times; want once\n%s", n, errOut)
	}
	// flows run FILE, which stores it first, says them as flows store does.
	code, out, errOut = runCLI(t, s.vars, "flows", "run", bad, "--no-wait")
	warnings = warningLines(errOut)
	if code != exitFailure {
		t.Fatalf("flows run of an invalid document: exit %d\n%s%s", code, out, errOut)
	}
	checkWarnings("flows run of an invalid document", warnings)
	if n := strings.Count(errOut, "timezone EST is a fixed offset"); n != 1 {
		t.Errorf("flows run of an invalid document: stderr says EST's warning %d times; want once\n%s", n, errOut)
	}
	// --json's error keeps them in details.warnings, for scripts.
	_, _, errOut = runCLI(t, s.vars, "flows", "store", bad, "--json")
	if _, last, _ := strings.Cut(errOut, "{\"error\""); !strings.Contains(last, `"warnings":[`) {
		t.Errorf("flows store --json of an invalid document: stderr\n%s\nwant details.warnings in the error", errOut)
	}

	plain := write("plain.yaml", strings.NewReplacer("?", "*", "EST", "America/New_York").Replace(doc))
	for _, args := range [][]string{{"flows", "validate", plain}, {"flows", "store", plain}} {
		if code, out, errOut := runCLI(t, s.vars, args...); code != exitOK || errOut != "" {
			t.Errorf("%s: exit %d, stderr %q; want nothing on stderr\n%s", strings.Join(args, " "), code, errOut, out)
		}
	}
}

// TestCLIPlanAndStoredFlowWarnings: flows plan FILE prints the document's
// warnings on stderr as flows validate does (a refused document's too);
// flows show, flows enable and flows plan of a stored flow print its
// latest version's, "warning: flow NAME, version N, line L, column C:
// message; remedy" (stdout stays what it was: show's a flow document), and
// flows list marks it with their count in TRIGGER. A flow without
// warnings prints none; disabling prints none. flows show --version N
// prints that version's.
func TestCLIPlanAndStoredFlowWarnings(t *testing.T) {
	s := startServerWith(t, oktaemu.Config{Devices: 2})
	s.connect(t, "Demo org")
	dir := t.TempDir()
	write := func(name, src string) string {
		t.Helper()
		file := filepath.Join(dir, name)
		if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		return file
	}
	check := func(what, errOut string, want ...string) {
		t.Helper()
		lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
		if errOut == "" {
			lines = nil
		}
		if len(lines) != len(want) {
			t.Fatalf("%s: stderr\n%s\nwant %d warnings", what, errOut, len(want))
		}
		for i, w := range want {
			if !strings.HasPrefix(lines[i], w) {
				t.Errorf("%s: stderr line %d = %q; want it to start %q", what, i+1, lines[i], w)
			}
		}
		if len(want) > 0 && !strings.Contains(errOut, "; write timezone: America/New_York") {
			t.Errorf("%s: stderr\n%s\nwant EST's remedy", what, errOut)
		}
	}
	const cronWarning = `cron "0 2 ? * MON": the day-of-month field's ? is read as * (every day)`
	const estWarning = "timezone EST is a fixed offset, UTC-5 all year"

	file := write("est.yaml", warnedFlow)
	inFile := []string{"warning: " + file + ":4:11: " + cronWarning, "warning: " + file + ":5:15: " + estWarning}
	for _, args := range [][]string{{"flows", "plan", file}, {"flows", "plan", file, "--json"}, {"flows", "plan", file, "--as-scheduled"}} {
		code, out, errOut := runCLI(t, s.vars, args...)
		if code != exitOK {
			t.Fatalf("%s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		check(strings.Join(args, " "), errOut, inFile...)
	}
	if _, out, _ := runCLI(t, s.vars, "flows", "list"); strings.Contains(out, "est-nightly") {
		t.Fatalf("flows plan FILE stored the document:\n%s", out)
	}
	bad := write("bad.yaml", strings.Replace(warnedFlow, "search-devices", "search-device", 1))
	code, out, errOut := runCLI(t, s.vars, "flows", "plan", bad)
	warnings := warningLines(errOut)
	if code != exitFailure {
		t.Fatalf("flows plan of an invalid document: exit %d\n%s%s", code, out, errOut)
	}
	check("flows plan of an invalid document", warnings, "warning: "+bad+":4:11: "+cronWarning, "warning: "+bad+":5:15: "+estWarning)
	// Said once: the error under them does not list them again.
	if n := strings.Count(errOut, estWarning); n != 1 {
		t.Errorf("flows plan of an invalid document: stderr says EST's warning %d times; want once\n%s", n, errOut)
	}

	if code, out, errOut := runCLI(t, s.vars, "flows", "store", file); code != exitOK {
		t.Fatalf("flows store: exit %d\n%s%s", code, out, errOut)
	}
	stored := []string{"warning: flow est-nightly, version 1, line 4, column 11: " + cronWarning, "warning: flow est-nightly, version 1, line 5, column 15: " + estWarning}
	code, out, errOut = runCLI(t, s.vars, "flows", "show", "est-nightly")
	if code != exitOK || !strings.HasPrefix(out, "# flow est-nightly, version 1 of 1") || !strings.HasSuffix(out, warnedFlow) {
		t.Fatalf("flows show: exit %d\n%s%s", code, out, errOut)
	}
	check("flows show", errOut, stored...)
	for _, args := range [][]string{
		{"flows", "show", "est-nightly", "--json"}, {"flows", "show", "est-nightly", "--version", "1"},
		{"flows", "plan", "est-nightly"}, {"flows", "plan", "est-nightly", "--as-scheduled"},
		{"flows", "enable", "est-nightly"}, {"flows", "enable", "est-nightly", "--json"},
	} {
		code, out, errOut := runCLI(t, s.vars, args...)
		if code != exitOK {
			t.Fatalf("%s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		check(strings.Join(args, " "), errOut, stored...)
	}
	code, out, errOut = runCLI(t, s.vars, "flows", "list")
	if code != exitOK || !strings.Contains(out, "cron 0 2 ? * MON EST (2 warnings)") {
		t.Errorf("flows list: exit %d\n%s%s\nwant the trigger marked with its 2 warnings", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, s.vars, "flows", "disable", "est-nightly"); code != exitOK || errOut != "" {
		t.Errorf("flows disable: exit %d, stderr %q; want nothing on stderr\n%s", code, errOut, out)
	}

	// Version 2 has no warnings: the flow's are its latest version's.
	plain := write("plain.yaml", strings.NewReplacer("?", "*", "EST", "America/New_York").Replace(warnedFlow))
	if code, out, errOut := runCLI(t, s.vars, "flows", "store", plain); code != exitOK {
		t.Fatalf("flows store: exit %d\n%s%s", code, out, errOut)
	}
	for _, args := range [][]string{
		{"flows", "show", "est-nightly"}, {"flows", "show", "est-nightly", "--version", "2"}, {"flows", "plan", "est-nightly"},
		{"flows", "enable", "est-nightly"}, {"flows", "plan", plain},
	} {
		code, out, errOut := runCLI(t, s.vars, args...)
		if code != exitOK || errOut != "" {
			t.Errorf("%s: exit %d, stderr %q; want nothing on stderr\n%s", strings.Join(args, " "), code, errOut, out)
		}
	}
	if _, out, _ := runCLI(t, s.vars, "flows", "list"); strings.Contains(out, "warning") {
		t.Errorf("flows list of a flow without warnings:\n%s", out)
	}
	// The older version shown keeps its own warnings, with its number.
	for _, args := range [][]string{{"flows", "show", "est-nightly", "--version", "1"}, {"flows", "show", "est-nightly", "--version", "1", "--json"}} {
		code, out, errOut := runCLI(t, s.vars, args...)
		if code != exitOK {
			t.Fatalf("%s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		check(strings.Join(args, " "), errOut, stored...)
	}
}

// warningLines are the "warning: " lines of a command's stderr, which a
// refused document's problems (FILE:LINE:COLUMN lines) and its error
// follow.
func warningLines(errOut string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(errOut, "\n") {
		if strings.HasPrefix(l, "warning: ") {
			b.WriteString(l)
		}
	}
	return b.String()
}
