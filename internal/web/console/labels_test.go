package console_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// TestFactLabelsSayIDAsOktaDoes: the labels of the console's facts (a
// connection's ID, its account's Okta user ID, a card run's Okta request
// IDs) write ID as the Client ID beside them and Okta's Admin Console do,
// where they wrote Id, id and ids; and a flow run names who its card runs
// act as as a card run does, "Acting as", where it said "Acts as".
func TestFactLabelsSayIDAsOktaDoes(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("templates", "*.html"))
	if err != nil || len(files) == 0 {
		t.Fatalf("templates: %v, %v", files, err)
	}
	label := regexp.MustCompile(`<dt>([^<{]*)</dt>`)
	wrong := regexp.MustCompile(`\b(Id|id|ids|Ids)\b|^Acts as$`)
	seen := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range label.FindAllStringSubmatch(string(b), -1) {
			seen++
			if wrong.MatchString(m[1]) {
				t.Errorf("%s: the label %q; want ID (IDs), and Acting as", filepath.Base(f), m[1])
			}
		}
	}
	if seen < 20 {
		t.Fatalf("found %d fact labels in the templates; want the pages' labels", seen)
	}
}

// TestFormLabelsAreInSentenceCase: the labels of the console's form
// fields are written in sentence case, as Client ID and New client
// secret are, where the New Connection form asked for a "Client Secret";
// only names keep their capitals (Okta, ID, API, JWK, PEM).
func TestFormLabelsAreInSentenceCase(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("templates", "*.html"))
	if err != nil || len(files) == 0 {
		t.Fatalf("templates: %v, %v", files, err)
	}
	labels := regexp.MustCompile(`\(field "[^"]*" "([^"]*)"|<label[^>]*>([^<{]*)<`)
	names := map[string]bool{"ID": true, "IDs": true, "Okta": true, "API": true, "JWK": true, "PEM": true, "SSO": true, "URL": true}
	seen := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range labels.FindAllStringSubmatch(string(b), -1) {
			text := m[1] + m[2]
			words := strings.Fields(text)
			if len(words) == 0 {
				continue
			}
			seen++
			for _, w := range words[1:] {
				if r, _ := utf8.DecodeRuneInString(w); unicode.IsUpper(r) && !names[strings.Trim(w, "()")] {
					t.Errorf("%s: the label %q writes %q with a capital; want sentence case", filepath.Base(f), text, w)
				}
			}
		}
	}
	if seen < 10 {
		t.Fatalf("found %d form labels in the templates; want the forms' labels", seen)
	}
}
