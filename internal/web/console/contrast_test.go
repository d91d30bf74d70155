package console_test

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
)

// rgba is a CSS colour with channels 0–255 and alpha 0–1.
type rgba struct{ r, g, b, a float64 }

// parseColor reads a computed CSS colour: "rgb(r, g, b)", "rgba(r, g, b, a)"
// (what getComputedStyle returns for sRGB colours) or "transparent".
func parseColor(s string) (rgba, error) {
	s = strings.TrimSpace(s)
	if s == "transparent" {
		return rgba{}, nil
	}
	var body string
	switch {
	case strings.HasPrefix(s, "rgba(") && strings.HasSuffix(s, ")"):
		body = s[5 : len(s)-1]
	case strings.HasPrefix(s, "rgb(") && strings.HasSuffix(s, ")"):
		body = s[4 : len(s)-1]
	default:
		return rgba{}, fmt.Errorf("colour %q is not rgb() or rgba()", s)
	}
	parts := strings.FieldsFunc(body, func(r rune) bool { return r == ',' || r == ' ' || r == '/' })
	if len(parts) != 3 && len(parts) != 4 {
		return rgba{}, fmt.Errorf("colour %q: want 3 or 4 channels", s)
	}
	c := rgba{a: 1}
	for i, p := range parts {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil {
			return rgba{}, fmt.Errorf("colour %q: %w", s, err)
		}
		switch i {
		case 0:
			c.r = v
		case 1:
			c.g = v
		case 2:
			c.b = v
		case 3:
			c.a = v
		}
	}
	return c, nil
}

// over composites c over an opaque background bg.
func (c rgba) over(bg rgba) rgba {
	mix := func(x, y float64) float64 { return x*c.a + y*(1-c.a) }
	return rgba{mix(c.r, bg.r), mix(c.g, bg.g), mix(c.b, bg.b), 1}
}

// luminance is the WCAG 2 relative luminance of an opaque colour.
func (c rgba) luminance() float64 {
	lin := func(v float64) float64 {
		v /= 255
		if v <= 0.04045 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c.r) + 0.7152*lin(c.g) + 0.0722*lin(c.b)
}

func (c rgba) String() string {
	return fmt.Sprintf("#%02x%02x%02x", int(math.Round(c.r)), int(math.Round(c.g)), int(math.Round(c.b)))
}

// contrast is the WCAG 2 contrast ratio of two opaque colours (1 to 21).
func contrast(a, b rgba) float64 {
	la, lb := a.luminance(), b.luminance()
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// backdrop composites computed background colours, listed from the
// innermost element outwards, over the white canvas.
func backdrop(layers []string) (rgba, error) {
	bg := rgba{255, 255, 255, 1}
	for i := len(layers) - 1; i >= 0; i-- {
		c, err := parseColor(layers[i])
		if err != nil {
			return rgba{}, err
		}
		bg = c.over(bg)
	}
	return bg, nil
}

func TestContrast(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		fg, bg string
		layers []string
		want   float64
	}{
		{name: "black on white", fg: "rgb(0, 0, 0)", bg: "rgb(255, 255, 255)", want: 21},
		{name: "same colour", fg: "rgb(23, 128, 61)", bg: "rgb(23, 128, 61)", want: 1},
		// The values WebAIM's contrast checker gives.
		{name: "grey 767676 on white", fg: "rgb(118, 118, 118)", bg: "rgb(255, 255, 255)", want: 4.54},
		{name: "amber f0a000 on white", fg: "rgb(240, 160, 0)", bg: "rgb(255, 255, 255)", want: 2.16},
		{name: "half-transparent black over white", fg: "rgb(0, 0, 0)", layers: []string{"rgba(0, 0, 0, 0.5)", "rgb(255, 255, 255)"}, want: 5.28},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fg, err := parseColor(tc.fg)
			if err != nil {
				t.Fatal(err)
			}
			layers := tc.layers
			if layers == nil {
				layers = []string{tc.bg}
			}
			bg, err := backdrop(layers)
			if err != nil {
				t.Fatal(err)
			}
			if got := contrast(fg, bg); math.Abs(got-tc.want) > 0.01 {
				t.Errorf("contrast(%s, %s) = %.3f; want %.2f", fg, bg, got, tc.want)
			}
		})
	}
	if _, err := parseColor("color(display-p3 1 0 0)"); err == nil {
		t.Errorf("parseColor accepted a colour space it cannot convert")
	}
}
