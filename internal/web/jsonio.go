package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/problem"
)

// defaultMaxBody is the request body limit when Server.MaxBodyBytes is 0.
const defaultMaxBody = 1 << 20

// indentUpTo is the largest answer writeJSON indents, for people reading
// it (with curl, say). A larger one, such as a flow run carrying the
// thousands of devices its search found, goes out as encoded: indenting it
// would take another copy half as large again, and more while it grows.
const indentUpTo = 1 << 20

// writeJSON answers status with v as JSON. A value that cannot be encoded
// is answered 500 (nothing of it is sent).
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(api.ErrorBody{Error: api.Error{Code: string(problem.Internal), Message: "internal error (encoding the answer)"}})
	}
	if len(b) <= indentUpTo {
		var buf bytes.Buffer
		if json.Indent(&buf, b, "", "  ") == nil {
			b = buf.Bytes()
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// decodeJSON reads exactly one JSON value from the request body into v,
// refusing unknown fields, trailing data and oversized bodies. An empty body
// is an error unless allowEmpty, in which case v is left untouched.
func (s *Server) decodeJSON(w http.ResponseWriter, r *http.Request, v any, allowEmpty bool) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return problem.New(problem.InvalidInput, "request body must be JSON (Content-Type: application/json), not %q", ct).
				WithRemedy("send the body as JSON with the header Content-Type: application/json")
		}
	}
	var raw bytes.Buffer
	body := io.TeeReader(http.MaxBytesReader(w, r.Body, s.maxBody()), &raw)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			if allowEmpty {
				return nil
			}
			return problem.New(problem.InvalidInput, "request body is empty").WithRemedy("send a JSON object")
		}
		return decodeProblem(err, s.maxBody(), v)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return problem.New(problem.InvalidInput, "request body must hold exactly one JSON value").WithRemedy("send one JSON object, with nothing after it")
	}
	return exactFields(raw.Bytes(), v)
}

// exactFields refuses a field of the body that names one of v's fields in
// other capitals ("Card" for "card"): encoding/json takes it for the field,
// but the API's field names are exact, as its documentation spells them.
func exactFields(body []byte, v any) error {
	fields := jsonFields(v)
	if fields == nil {
		return nil
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return nil // not an object: the decoder has judged it already
	}
	for _, k := range slices.Sorted(maps.Keys(top)) {
		if !slices.Contains(fields, k) {
			return unknownField(k, fields)
		}
	}
	return nil
}

// unknownField refuses a body's field name that is none of fields (the
// JSON fields of the request, nil when unknown), pointing at the one it
// names in other capitals if any, else at the nearest one (a misspelling).
func unknownField(name string, fields []string) *problem.Error {
	p := problem.New(problem.InvalidInput, "unknown field %q", name).WithDetail("field", name)
	for _, f := range fields {
		if strings.EqualFold(f, name) {
			return p.WithRemedy("field names are exact: write %q", f)
		}
	}
	if len(fields) == 0 {
		return p.WithRemedy("remove it or fix its spelling")
	}
	if near := flow.Nearest(name, fields...); near != "" {
		return p.WithRemedy("did you mean %q? The fields are %s", near, strings.Join(fields, ", "))
	}
	return p.WithRemedy("remove it or fix its spelling; the fields are %s", strings.Join(fields, ", "))
}

func (s *Server) maxBody() int64 {
	if s.MaxBodyBytes > 0 {
		return s.MaxBodyBytes
	}
	return defaultMaxBody
}

// decodeProblem explains a JSON decoding error into v, naming the field
// when the decoder knows it, and how to fix it.
func decodeProblem(err error, limit int64, v any) *problem.Error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var big *http.MaxBytesError
	switch {
	case errors.As(err, &big):
		return problem.New(problem.InvalidInput, "request body is larger than %d bytes", limit).
			WithRemedy("send a smaller body").Wrap(big)
	case errors.As(err, &syn):
		return problem.New(problem.InvalidInput, "request body is not valid JSON (at byte %d)", syn.Offset).
			WithRemedy("fix the JSON at that byte")
	case errors.As(err, &typ):
		if p := numberOutOfRange(typ); p != nil {
			return p
		}
		want := jsonKind(typ.Type.Kind().String())
		got := jsonValueKind(typ.Value)
		if typ.Field == "" {
			return problem.New(problem.InvalidInput, "request body must be %s, not %s", want, got).
				WithRemedy("send %s", want)
		}
		return problem.New(problem.InvalidInput, "field %q must be %s, not %s", typ.Field, want, got).
			WithRemedy("send %s as %s", typ.Field, want).WithDetail("field", typ.Field)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return problem.New(problem.InvalidInput, "request body is truncated JSON").WithRemedy("send the whole JSON object")
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return unknownField(strings.Trim(name, `"`), jsonFields(v))
	}
	return problem.New(problem.InvalidInput, "request body is not valid: %s", strings.TrimPrefix(err.Error(), "json: ")).
		WithRemedy("send a JSON object")
}

// jsonFields names the JSON fields of the struct v points to, in order;
// nil for anything else.
func jsonFields(v any) []string {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		out = append(out, name)
	}
	return out
}

// numberOutOfRange explains a number too large (or too small) for its
// field, such as 1e400 for any number or 1e30 for a count: the decoder
// reports it as a type error, which would read "must be a number, not
// 1e400". Nil for any other type error (1.5 for a whole number among them).
func numberOutOfRange(typ *json.UnmarshalTypeError) *problem.Error {
	kind, literal, _ := strings.Cut(typ.Value, " ")
	if kind != "number" || literal == "" || typ.Type == nil {
		return nil
	}
	t := typ.Type
	var lowest, highest float64
	var limits string
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		// Any number fits unless it is too large.
		highest = math.MaxFloat64
		if t.Kind() == reflect.Float32 {
			highest = math.MaxFloat32
		}
		lowest, limits = -highest, fmt.Sprintf("from %g to %g", -highest, highest)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		lo, hi := int64(-1)<<(t.Bits()-1), int64(1)<<(t.Bits()-1)-1
		lowest, highest, limits = float64(lo), float64(hi), fmt.Sprintf("from %d to %d", lo, hi)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		hi := uint64(math.MaxUint64) >> (64 - t.Bits())
		highest, limits = float64(hi), fmt.Sprintf("from 0 to %d", hi)
	default:
		return nil
	}
	where, fix := "the request body", "send"
	if typ.Field != "" {
		where, fix = fmt.Sprintf("field %q", typ.Field), "send "+typ.Field+" as"
	}
	p := problem.New(problem.InvalidInput, "%s holds the number %s, which is out of range", where, literal).
		WithRemedy("%s a number %s", fix, limits)
	// Digits alone fail a whole number only when out of range; a number
	// the decoder could not fit that is in range has a fraction or an
	// exponent.
	f, err := strconv.ParseFloat(literal, 64)
	inRange := err == nil && f >= lowest && f <= highest && strings.ContainsAny(literal, ".eE")
	switch {
	case inRange && (f != math.Trunc(f) || t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64):
		return nil // a fraction for a whole number: jsonValueKind names it
	case inRange:
		p = problem.New(problem.InvalidInput, "%s must be a whole number written in digits, not %s", where, literal).
			WithRemedy("%s %s", fix, strconv.FormatFloat(f, 'f', -1, 64))
	}
	if typ.Field != "" {
		p = p.WithDetail("field", typ.Field)
	}
	return p
}

// jsonKind names a Go kind as the JSON type a caller must send.
// jsonValueKind names the kind of JSON value the decoder met
// (json.UnmarshalTypeError's Value: "array", "string", "number 1.5") with
// its article, or the number that does not fit.
func jsonValueKind(value string) string {
	kind, literal, _ := strings.Cut(value, " ")
	if literal != "" {
		return literal // a number that does not fit, such as 1.5 for a whole number
	}
	switch kind {
	case "array", "object":
		return "an " + kind
	case "bool":
		return "a boolean"
	case "string", "number":
		return "a " + kind
	}
	return value
}

func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "a whole number"
	case "float32", "float64":
		return "a number"
	case "interface":
		return "a JSON value"
	}
	return fmt.Sprintf("a %s", kind)
}
