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
