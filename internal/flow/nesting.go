package flow

// maxNesting bounds how deep a flow document's collections may nest, block
// and flow style together. The YAML parser's time and memory grow with the
// square of the nesting, so a document is measured before it is parsed. A
// real flow nests fewer than ten levels; inputs are bounded again, more
// tightly, after parsing (maxDepth).
const maxNesting = 64

// nestingScan measures a document's nesting in one pass without
// allocating. It reads just enough YAML to tell structure from text: block
// indentation, sequence and mapping indicators, flow brackets, quoted
// scalars, block scalars and comments. Where it is unsure it counts a level
// rather than skip one, so it may overestimate, never underestimate the
// depth the parser would build.
type nestingScan struct {
	src   []byte
	i     int // next byte
	line  int // 1-based line of src[i]
	start int // offset of the current line's first byte

	stack [maxNesting + 1]int // open block nodes: column<<1 | 1 for a "- " entry
	depth int                 // entries used in stack
	flow  int                 // open flow brackets

	// tokenStart is set in flow context where a quote starts a quoted
	// scalar: after an opening bracket, a comma or a colon.
	tokenStart bool

	// blockScalar is the indentation a line must exceed to belong to the
	// block scalar (| or >) being skipped; -1 when none is.
	blockScalar int
}

// checkNesting reports the position where src first nests deeper than
// maxNesting, and whether it does.
func checkNesting(src []byte) (Pos, bool) {
	s := nestingScan{src: src, line: 1, blockScalar: -1}
	return s.run()
}

func (s *nestingScan) pos() Pos { return Pos{Line: s.line, Column: s.i - s.start + 1} }

func (s *nestingScan) run() (Pos, bool) {
	for s.i < len(s.src) {
		s.start = s.i
		for s.i < len(s.src) && s.src[s.i] == ' ' {
			s.i++
		}
		col := s.i - s.start
		if s.atLineEnd() || s.src[s.i] == '#' {
			s.skipLine()
			continue
		}
		if s.flow > 0 {
			if p, deep := s.scanFlow(); deep {
				return p, true
			}
			continue
		}
		if s.blockScalar >= 0 {
			if col > s.blockScalar {
				s.skipLine()
				continue
			}
			s.blockScalar = -1
		}
		if p, deep := s.scanBlockLine(col); deep {
			return p, true
		}
	}
	return Pos{}, false
}

// atLineEnd reports whether only a line break (or the end) is left on the
// line at s.i. A line break is "\n", "\r\n" or a "\r" alone, as for the
// YAML parser.
func (s *nestingScan) atLineEnd() bool {
	return s.i >= len(s.src) || s.src[s.i] == '\n' || s.src[s.i] == '\r'
}

// skipLine moves past the next line break.
func (s *nestingScan) skipLine() {
	for s.i < len(s.src) && s.src[s.i] != '\n' && s.src[s.i] != '\r' {
		s.i++
	}
	s.skipBreak()
}

// skipBreak moves past the line break at s.i, if there is one.
func (s *nestingScan) skipBreak() {
	if s.i >= len(s.src) || (s.src[s.i] != '\n' && s.src[s.i] != '\r') {
		return
	}
	if s.src[s.i] == '\r' && s.i+1 < len(s.src) && s.src[s.i+1] == '\n' {
		s.i++
	}
	s.i++
	s.line++
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// blankAfter reports whether the byte after s.i+n is blank or the end.
func (s *nestingScan) blankAfter(n int) bool {
	return s.i+n >= len(s.src) || isBlank(s.src[s.i+n])
}

func (s *nestingScan) skipSpaces() {
	for s.i < len(s.src) && (s.src[s.i] == ' ' || s.src[s.i] == '\t') {
		s.i++
	}
}

// push opens a block node at column col, closing those right of it and
// those at it, except that a sequence entry ("- ") at the column of a
// mapping key is that key's value.
func (s *nestingScan) push(col int, dash bool) bool {
	e := col << 1
	if dash {
		e |= 1
	}
	for s.depth > 0 {
		top := s.stack[s.depth-1]
		if top>>1 < col || (top>>1 == col && dash && top&1 == 0) {
			break
		}
		s.depth--
	}
	if s.depth+s.flow >= maxNesting {
		return false
	}
	s.stack[s.depth] = e
	s.depth++
	return true
}

// scanBlockLine reads a line in block context from its first non-space
// byte, at column col.
func (s *nestingScan) scanBlockLine(col int) (Pos, bool) {
	lineIndent := col
	if col == 0 && s.i+3 <= len(s.src) && (string(s.src[s.i:s.i+3]) == "---" || string(s.src[s.i:s.i+3]) == "...") && s.blankAfter(3) {
		s.depth = 0
		s.i += 3
		s.skipSpaces()
		if s.atLineEnd() {
			s.skipLine()
			return Pos{}, false
		}
	}
	// Node starts: the line's first node, then one after each "- ", "? "
	// or ": " indicator at the start of a node.
	for {
		if s.atLineEnd() {
			s.skipLine()
			return Pos{}, false
		}
		c := s.src[s.i]
		indicator := (c == '-' || c == '?' || c == ':') && s.blankAfter(1)
		if !s.push(s.i-s.start, indicator && c == '-') {
			return s.pos(), true
		}
		if indicator {
			s.i++
			s.skipSpaces()
			continue
		}
		return s.scanBlockValue(lineIndent)
	}
}

// scanBlockValue reads the rest of a block-context line from the start of
// a node: properties, then a flow collection, a quoted scalar, a block
// scalar or a plain scalar, possibly followed by ": " and another node.
func (s *nestingScan) scanBlockValue(lineIndent int) (Pos, bool) {
	for {
		s.skipSpaces()
		if s.atLineEnd() {
			s.skipLine()
			return Pos{}, false
		}
		switch c := s.src[s.i]; c {
		case '#':
			s.skipLine()
			return Pos{}, false
		case '&', '!', '*':
			for s.i < len(s.src) && !isBlank(s.src[s.i]) {
				s.i++
			}
			continue
		case '[', '{':
			return s.scanFlow()
		case '\'', '"':
			if !s.skipQuoted(c) {
				s.i = len(s.src)
				return Pos{}, false
			}
		case '|', '>':
			j := s.i + 1
			for j < len(s.src) && (s.src[j] == '-' || s.src[j] == '+' || (s.src[j] >= '0' && s.src[j] <= '9')) {
				j++
			}
			if j == len(s.src) || isBlank(s.src[j]) {
				s.blockScalar = lineIndent
				s.skipLine()
				return Pos{}, false
			}
			s.skipPlain()
		default:
			s.skipPlain()
		}
		// After a scalar: a mapping value indicator starts another node.
		s.skipSpaces()
		if s.i < len(s.src) && s.src[s.i] == ':' && s.blankAfter(1) {
			s.i++
			continue
		}
		if s.atLineEnd() || s.src[s.i] == '#' {
			s.skipLine()
			return Pos{}, false
		}
	}
}

// skipPlain moves to the end of a plain scalar on this line: the next
// ": ", " #" or line break.
func (s *nestingScan) skipPlain() {
	for ; s.i < len(s.src); s.i++ {
		switch c := s.src[s.i]; {
		case c == '\n' || c == '\r':
			return
		case c == ':' && s.blankAfter(1):
			return
		case (c == ' ' || c == '\t') && s.i+1 < len(s.src) && s.src[s.i+1] == '#':
			return
		}
	}
}

// skipQuoted moves past a quoted scalar that starts at s.i, across lines.
// It reports false when the scalar is not closed.
func (s *nestingScan) skipQuoted(q byte) bool {
	for s.i++; s.i < len(s.src); s.i++ {
		switch c := s.src[s.i]; {
		case c == '\n' || (c == '\r' && (s.i+1 == len(s.src) || s.src[s.i+1] != '\n')):
			s.line++
			s.start = s.i + 1
		case c == '\\' && q == '"':
			s.i++
			if s.i+1 < len(s.src) && s.src[s.i] == '\r' && s.src[s.i+1] == '\n' {
				s.i++
			}
			if s.i < len(s.src) && (s.src[s.i] == '\n' || s.src[s.i] == '\r') {
				s.line++
				s.start = s.i + 1
			}
		case c == q:
			if q == '\'' && s.i+1 < len(s.src) && s.src[s.i+1] == '\'' {
				s.i++
				continue
			}
			s.i++
			return true
		}
	}
	return false
}

// scanFlow reads flow-context text until the brackets close or the line
// ends; a flow collection may span lines, and then run calls it again for
// the next line.
func (s *nestingScan) scanFlow() (Pos, bool) {
	for s.i < len(s.src) {
		c := s.src[s.i]
		switch {
		case c == '\n' || c == '\r':
			s.skipBreak()
			return Pos{}, false
		case c == '[' || c == '{':
			if s.depth+s.flow >= maxNesting {
				return s.pos(), true
			}
			s.flow++
			s.tokenStart = true
		case c == ']' || c == '}':
			if s.flow > 0 {
				s.flow--
			}
			if s.flow == 0 {
				s.i++
				s.skipSpaces()
				if s.i < len(s.src) && s.src[s.i] == ':' && s.blankAfter(1) {
					s.i++
					return s.scanBlockValue(s.i - s.start)
				}
				for !s.atLineEnd() && s.src[s.i] != '#' {
					s.i++
				}
				s.skipLine()
				return Pos{}, false
			}
			s.tokenStart = false
		case c == ',' || c == ':' || c == '?':
			s.tokenStart = true
		case c == '#' && s.i > s.start && isBlank(s.src[s.i-1]):
			s.skipLine()
			return Pos{}, false
		case (c == '\'' || c == '"') && s.tokenStart:
			if !s.skipQuoted(c) {
				s.i = len(s.src)
				return Pos{}, false
			}
			s.tokenStart = false
			continue
		case isBlank(c):
		default:
			s.tokenStart = false
		}
		s.i++
	}
	return Pos{}, false
}
