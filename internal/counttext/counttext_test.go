package counttext

import "testing"

func TestFormat(t *testing.T) {
	tests := []struct {
		n    int
		noun string
		want string
	}{
		{1, "item", "1 item"},
		{2, "item", "2 items"},
		{0, "item", "0 items"},
		{12, "device", "12 devices"},
		{-1, "value", "-1 values"},
		{1, "personal API token", "1 personal API token"},
		{3, "failed event run", "3 failed event runs"},
	}
	for _, tt := range tests {
		if got := Format(tt.n, tt.noun); got != tt.want {
			t.Errorf("Format(%d, %q) = %q; want %q", tt.n, tt.noun, got, tt.want)
		}
	}
}
