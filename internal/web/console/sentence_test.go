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
		// The things the server's messages are about, named in prose,
		// where such a sentence started in lower case.
		{"a card", `card "Suspend Device" needs scope okta.devices.manage`, `Card "Suspend Device" needs scope okta.devices.manage.`},
		{"a client ID", "client ID is required", "Client ID is required."},
		{"a connection", `connection "Prod" needs reauthorization`, `Connection "Prod" needs reauthorization.`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sentence(tc.in); got != tc.want {
				t.Errorf("sentence(%q) = %q; want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestSentenceJoinsARemedy(t *testing.T) {
	got := sentence("the Okta Devices connection \"Demo org\" already has that nickname", "choose another nickname", "")
	want := "The Okta Devices connection \"Demo org\" already has that nickname; choose another nickname."
	if got != want {
		t.Errorf("sentence = %q; want %q", got, want)
	}
	// A message that ends its sentence, as Okta's summaries do, gives up
	// its full stop to the semicolon, where it read "criteria.; check".
	got = sentence("Okta rejected the search filter: Invalid search criteria.", "check the search expression")
	if want := "Okta rejected the search filter: Invalid search criteria; check the search expression."; got != want {
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

// TestBreakable: a word wraps only after a run of the characters given,
// each part up to one a span that does not break, and not after such a
// run at its start or end or a hyphen before a digit; white space is kept
// as it is, a word without such a place is only escaped, a word or part
// longer than longToken is marked long, and everything is escaped.
func TestBreakable(t *testing.T) {
	for _, tc := range []struct{ name, in, after, want string }{
		{"an email address in a sentence", "asked by Ada Admin (admin@example.com)", tokenBreaks,
			`asked by Ada Admin <span class="parts"><span>(admin@</span><wbr><span>example.</span><wbr><span>com)</span></span>`},
		{"a possessive after a login", "its starter rey@example.com's access", tokenBreaks,
			`its starter <span class="parts"><span>rey@</span><wbr><span>example.</span><wbr><span>com&#39;s</span></span> access`},
		{"lines and spaces kept", "step find: failed\n  (run it  again)", tokenBreaks, "step find: failed\n  (run it  again)"},
		{"a run of them breaks once, not at the ends", "--failed-only) e.g. /api/v1/devices/", tokenBreaks,
			`<span class="parts"><span>--failed-</span><wbr><span>only)</span></span> <span class="parts"><span>e.</span><wbr><span>g.</span></span> <span class="parts"><span>/api/</span><wbr><span>v1/</span><wbr><span>devices/</span></span>`},
		{"a URL", "https://dev-1.okta.com/api", tokenBreaks,
			`<span class="parts"><span>https://</span><wbr><span>dev-1.</span><wbr><span>okta.</span><wbr><span>com/</span><wbr><span>api</span></span>`},
		{"no hyphen before a digit", "at 2026-12-06T19:45:47Z, -5", tokenBreaks, "at 2026-12-06T19:45:47Z, -5"},
		{"snake case", "ops_team-oncall", tokenBreaks, `<span class="parts"><span>ops_</span><wbr><span>team-</span><wbr><span>oncall</span></span>`},
		{"an id has no place to break", "rerun 0123456789abcdef01234567", tokenBreaks, "rerun 0123456789abcdef01234567"},
		{"a long id is marked long", "rerun 0123456789abcdef0123456789abcdef", tokenBreaks, `rerun <span class="long">0123456789abcdef0123456789abcdef</span>`},
		{"a long part too", "deviceId=guo1a2b3c4d5e6f7g8h9i0j1/users", tokenBreaks,
			`<span class="parts"><span class="long">deviceId=guo1a2b3c4d5e6f7g8h9i0j1/</span><wbr><span>users</span></span>`},
		{"escaped", `<b>x</b>&y@"z".test`, tokenBreaks,
			`<span class="parts"><span>&lt;b&gt;x&lt;/</span><wbr><span>b&gt;&amp;y@</span><wbr><span>&#34;z&#34;.</span><wbr><span>test</span></span>`},
		{"an issuer breaks at its dots and slashes only", "old-idp.example.com/oauth2/default", "./",
			`<span class="parts"><span>old-idp.</span><wbr><span>example.</span><wbr><span>com/</span><wbr><span>oauth2/</span><wbr><span>default</span></span>`},
		{"not ASCII", "ümlaut@exämple.com", tokenBreaks, `<span class="parts"><span>ümlaut@</span><wbr><span>exämple.</span><wbr><span>com</span></span>`},
		{"empty", "", tokenBreaks, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(breakable(tc.in, tc.after)); got != tc.want {
				t.Errorf("breakable(%q, %q) =\n%s\nwant\n%s", tc.in, tc.after, got, tc.want)
			}
		})
	}
	if got, want := string(breakableIssuer("https://old-idp.example.com/oauth2/default/")), string(breakable("old-idp.example.com/oauth2/default", "./")); got != want {
		t.Errorf("breakableIssuer = %s; want %s", got, want)
	}
	for in, want := range map[string]string{"person.signout": "person.signout", "connection.authorize": "connection.<wbr>authorize"} {
		if got := string(breakableAction(in)); got != want {
			t.Errorf("breakableAction(%q) = %q; want %q", in, got, want)
		}
	}
}

// TestRemedy: a remedy after "How to fix it:" starts with a capital when
// it starts with what to do, as the console's own remedies do, and keeps
// the case of a name typed as written.
func TestRemedy(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"check the device id", "Check the device id."},
		{"reauthorize, then run it again", "Reauthorize, then run it again."},
		{"Read what the deletion breaks.", "Read what the deletion breaks."},
		{`cardflow connections reauthorize "Prod"`, `cardflow connections reauthorize "Prod".`},
		{"deviceId is required", "deviceId is required."},
		{"okta-devices/read-device reads one device", "okta-devices/read-device reads one device."},
		{"-notify-url names the receiver", "-notify-url names the receiver."},
		{"", ""},
	} {
		if got := remedy(tc.in); got != tc.want {
			t.Errorf("remedy(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}
