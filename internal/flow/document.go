package flow

import (
	"fmt"
	"strings"
)

// Limits of a flow document.
const (
	// MaxDocumentSize is the largest flow document Parse accepts, in bytes.
	MaxDocumentSize = 1 << 20
	// MaxConcurrency is the largest concurrency a for_each step may ask for.
	MaxConcurrency = 32
	// MaxSteps is the largest number of steps in one document.
	MaxSteps = 200
	// maxDepth bounds the nesting of YAML values in a step's input.
	maxDepth = 32
)

// Input types.
const (
	TypeString = "string"
	TypeNumber = "number"
	TypeBool   = "bool"
	TypeList   = "list"
)

// Card modes, as reported by ValidateEnv.
const (
	ModeRead   = "read"
	ModeManage = "manage"
	// ModeEvent is the mode of an event card: it starts flows (on.event)
	// and is not run as a step.
	ModeEvent = "event"
)

// Document is a parsed flow. It is immutable once Validate has returned,
// and then safe for concurrent use by several runs.
type Document struct {
	// Name is the flow's required, unique name.
	Name string
	// Description is free text.
	Description string
	// Inputs are the flow's declared inputs, in document order.
	Inputs []*InputDef
	// Steps are the flow's steps, in the order they run.
	Steps []*Step
	// Trigger is the on: section; nil for a flow only people start.
	Trigger *Trigger

	warnings  []Warning // see Warnings
	validated bool
}

// InputDef declares one input of a flow.
type InputDef struct {
	Name        string
	Type        string // TypeString, TypeNumber, TypeBool or TypeList
	Required    bool
	Description string
	// Default is the value used when the input is not given (nil when
	// HasDefault is false). Numbers are float64, lists []any.
	Default    any
	HasDefault bool
	Pos        Pos
}

// Step is one step of a flow: one card run with one connection, once or
// once per item of its for_each list.
type Step struct {
	ID         string
	Card       string // "connector/card"
	Connection string // nickname or id, as written
	// Concurrency is how many items of a for_each step run at once (1 when
	// not set).
	Concurrency int
	Pos         Pos

	input   *value // nil when the step has no input
	forEach *value // nil when the step has no for_each
	cond    *value // the step's if; nil when absent
	deps    []string
	cardPos Pos // where the card reference is written
	connPos Pos // where the connection is written

	// Set by Validate.
	mode         string
	connectionID string
	// takesStatus says that the step's card is a manage card with a
	// "status" input, the device's status as the flow knows it (the
	// lifecycle and delete cards).
	takesStatus bool
}

// ForEach reports whether the step runs once per item of a list.
func (s *Step) ForEach() bool { return s.forEach != nil }

// Condition is the step's if as written: the expression of ${{ }} alone,
// true or false for a literal, and "" for a step without one.
func (s *Step) Condition() string {
	c := s.cond
	switch {
	case c == nil:
		return ""
	case c.kind == valLiteral:
		return fmt.Sprint(c.lit)
	case c.tmpl == nil:
		return ""
	case c.tmpl.whole:
		return strings.TrimSpace(c.tmpl.parts[0].expr.src)
	}
	var b strings.Builder
	for _, p := range c.tmpl.parts {
		if p.expr != nil {
			b.WriteString("${{" + p.expr.src + "}}")
			continue
		}
		b.WriteString(p.text)
	}
	return b.String()
}

// Mode is the card's mode ("read" or "manage"); empty until the document
// has been validated.
func (s *Step) Mode() string { return s.mode }

// Connector is the connector part of the step's card reference.
func (s *Step) Connector() string {
	for i := 0; i < len(s.Card); i++ {
		if s.Card[i] == '/' {
			return s.Card[:i]
		}
	}
	return s.Card
}

// DependsOn lists the ids of the earlier steps whose output the step's
// expressions read.
func (s *Step) DependsOn() []string { return append([]string(nil), s.deps...) }

// Input returns the declared input named name, if any.
func (d *Document) Input(name string) (*InputDef, bool) {
	for _, in := range d.Inputs {
		if in.Name == name {
			return in, true
		}
	}
	return nil, false
}

// Step returns the step with the given id, if any.
func (d *Document) Step(id string) (*Step, bool) {
	for _, s := range d.Steps {
		if s.ID == id {
			return s, true
		}
	}
	return nil, false
}

// Validated reports whether Validate succeeded on d.
func (d *Document) Validated() bool { return d.validated }

// ConnectionID is the id of the step's connection; empty until the
// document has been validated.
func (s *Step) ConnectionID() string { return s.connectionID }

// connection is what a step's card runs against: the id resolved by
// Validate, else the name as written.
func (s *Step) connection() string {
	if s.connectionID != "" {
		return s.connectionID
	}
	return s.Connection
}
