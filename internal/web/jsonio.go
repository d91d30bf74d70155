package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/cardflow/cardflow/internal/problem"
)

// defaultMaxBody is the request body limit when Server.MaxBodyBytes is 0.
const defaultMaxBody = 1 << 20

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// decodeJSON reads exactly one JSON value from the request body into v,
// refusing unknown fields, trailing data and oversized bodies. An empty body
// is an error unless allowEmpty, in which case v is left untouched.
func (s *Server) decodeJSON(w http.ResponseWriter, r *http.Request, v any, allowEmpty bool) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return problem.New(problem.InvalidInput, "request body must be JSON (Content-Type: application/json), not %q", ct)
		}
	}
	body := http.MaxBytesReader(w, r.Body, s.maxBody())
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			if allowEmpty {
				return nil
			}
			return problem.New(problem.InvalidInput, "request body is empty; send a JSON object")
		}
		return decodeProblem(err, s.maxBody())
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return problem.New(problem.InvalidInput, "request body must hold exactly one JSON value")
	}
	return nil
}

func (s *Server) maxBody() int64 {
	if s.MaxBodyBytes > 0 {
		return s.MaxBodyBytes
	}
	return defaultMaxBody
}

// decodeProblem explains a JSON decoding error, naming the field when the
// decoder knows it.
func decodeProblem(err error, limit int64) *problem.Error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var big *http.MaxBytesError
	switch {
	case errors.As(err, &big):
		return problem.New(problem.InvalidInput, "request body is larger than %d bytes", limit).Wrap(big)
	case errors.As(err, &syn):
		return problem.New(problem.InvalidInput, "request body is not valid JSON (at byte %d)", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return problem.New(problem.InvalidInput, "request body must be a JSON %s, not %s", jsonKind(typ.Type.Kind().String()), typ.Value)
		}
		return problem.New(problem.InvalidInput, "field %q must be %s, not %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value).
			WithDetail("field", typ.Field)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return problem.New(problem.InvalidInput, "request body is truncated JSON")
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return problem.New(problem.InvalidInput, "unknown field %q", name).WithDetail("field", name)
	}
	return problem.New(problem.InvalidInput, "request body is not valid: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonKind names a Go kind as the JSON type a caller must send.
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
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "a number"
	case "interface":
		return "a JSON value"
	}
	return fmt.Sprintf("a %s", kind)
}
