package main

import (
	"fmt"
	"io"
	"unicode/utf8"
)

// escaper writes what the CLI prints with every control character shown
// as an escape (\x1b, \u202e) instead of being obeyed: the output carries
// org data (user names, device names, error text), and a terminal would
// run the escape sequences in them (retitle the window, hide text, fake
// output). Line feeds and tabs pass, as the CLI's own layout needs them;
// JSON output is already escaped by the encoder and passes unchanged, but
// for what the encoder leaves as it is (DEL, C1, the bidirectional
// controls), escaped as \u007f, \u009b, \u202e: a JSON string's own
// escapes, so that JSON output stays valid and decodes to what was sent.
//
// It keeps the first error of a write, so that a command whose output was
// lost (a full disk, a closed pipe) does not exit 0: outputError.
type escaper struct {
	w   io.Writer
	err error
}

// Write escapes p and writes it; it reports len(p) on success.
func (e *escaper) Write(p []byte) (int, error) {
	n, err := e.write(p)
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}

func (e *escaper) write(p []byte) (int, error) {
	if !needsEscape(p) {
		return e.w.Write(p)
	}
	out := make([]byte, 0, len(p)+16)
	for i := 0; i < len(p); {
		r, size := utf8.DecodeRune(p[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			out = fmt.Appendf(out, `\x%02x`, p[i])
		case escapeRune(r) && r < 0x7f:
			out = fmt.Appendf(out, `\x%02x`, r)
		case escapeRune(r):
			out = fmt.Appendf(out, `\u%04x`, r)
		default:
			out = append(out, p[i:i+size]...)
		}
		i += size
	}
	if _, err := e.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// escapeRune reports whether r is a control character a terminal would
// act on: C0 (but line feed and tab), DEL, C1, and the bidirectional
// overrides and isolates that reorder what is shown.
func escapeRune(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e || r == 0x200f:
		return true
	}
	return false
}

// needsEscape is the fast path: most output has nothing to escape.
func needsEscape(p []byte) bool {
	for i := 0; i < len(p); {
		if c := p[i]; c < utf8.RuneSelf {
			if (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(p[i:])
		if (r == utf8.RuneError && size <= 1) || escapeRune(r) {
			return true
		}
		i += size
	}
	return false
}

// outputError is the first error writing to w (an escaper) met, nil when
// every write succeeded.
func outputError(w io.Writer) error {
	if e, ok := w.(*escaper); ok {
		return e.err
	}
	return nil
}

// rawWriter returns the writer under an escaper, for output the CLI
// draws itself (the progress line redraws with a carriage return) and to
// tell whether it is a terminal.
func rawWriter(w io.Writer) io.Writer {
	if e, ok := w.(*escaper); ok {
		return e.w
	}
	return w
}
