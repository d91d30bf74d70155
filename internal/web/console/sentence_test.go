package console

import "testing"

func TestSentence(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"clause", "check the id", "check the id."},
		{"ends in a parenthesis", "check the search expression (eq, ne)", "check the search expression (eq, ne)."},
		{"a sentence already", "Reauthorize the connection.", "Reauthorize the connection."},
		{"a question", "Did you mean find?", "Did you mean find?"},
		{"trailing space", "try again \n", "try again."},
		{"empty", "", ""},
		{"an article", "the flow \"Find\" has that name", "The flow \"Find\" has that name."},
		{"a name the reader types", "deviceId is required", "deviceId is required."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sentence(tc.in); got != tc.want {
				t.Errorf("sentence(%q) = %q; want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestSentenceJoinsARemedy(t *testing.T) {
	got := sentence("the okta-devices connection \"Demo org\" already has that nickname", "choose another nickname", "")
	want := "The okta-devices connection \"Demo org\" already has that nickname; choose another nickname."
	if got != want {
		t.Errorf("sentence = %q; want %q", got, want)
	}
}

// TestBreakableLogin: a login is escaped and may wrap before its "@"; a
// login that is no email address is only escaped.
func TestBreakableLogin(t *testing.T) {
	for login, want := range map[string]string{
		"readonly@example.com":     "readonly<wbr>@example.com",
		"<i>x</i>@example.com":     "&lt;i&gt;x&lt;/i&gt;<wbr>@example.com",
		"ada":                      "ada",
		"@handle":                  "@handle",
		`"a@b"@example.com`:        "&#34;a<wbr>@b&#34;@example.com",
		"x@<script>.example.com":   "x<wbr>@&lt;script&gt;.example.com",
		"plain & simple":           "plain &amp; simple",
		"two@at@example.com":       "two<wbr>@at@example.com",
		"":                         "",
		"trailing@":                "trailing<wbr>@",
		"ümlaut@example.com":       "ümlaut<wbr>@example.com",
		"tab\tseparated@host.test": "tab\tseparated<wbr>@host.test",
	} {
		if got := string(breakableLogin(login)); got != want {
			t.Errorf("breakableLogin(%q) = %q; want %q", login, got, want)
		}
	}
}
