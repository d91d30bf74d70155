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
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sentence(tc.in); got != tc.want {
				t.Errorf("sentence(%q) = %q; want %q", tc.in, got, tc.want)
			}
		})
	}
}
