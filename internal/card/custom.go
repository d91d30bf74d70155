package card

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cardflow/cardflow/internal/okta"
)

func customAPIActionCard() Card {
	return Card{ID: "custom-api-action", Name: "Custom API Action", Mode: ModeManage,
		Description: "Call any Okta API endpoint under /api/v1/ of the connection's org. The scope is checked in advance for /api/v1/devices paths and left to Okta elsewhere.",
		Inputs: []Input{
			{Name: "method", Type: TypeString, Required: true, Enum: []string{"GET", "POST", "PUT", "PATCH", "DELETE"}, Description: "The HTTP method."},
			{Name: "relativeUrl", Type: TypeString, Required: true, Description: "A path under /api/v1/, optionally with a query, e.g. /api/v1/devices?limit=20."},
			{Name: "query", Type: TypeObject, Description: "Query parameters: name to a value or a list of values."},
			{Name: "headers", Type: TypeObject, Description: "Request headers: name to a value or a list of values (never Authorization or Host)."},
			{Name: "body", Type: TypeAny, Description: "The request body: JSON (an object or a list), or text sent as is."},
		},
		Output: object("status", "headers", "body").with("status", number), run: customAPIAction,
		check: func(in map[string]any) error { _, err := parseCustom(in); return err }}
}

// customRequest is a checked custom-api-action input.
type customRequest struct {
	method string
	path   string
	query  url.Values
	header http.Header
	body   []byte
}

// parseCustom checks the input of custom-api-action without calling Okta.
func parseCustom(in map[string]any) (*customRequest, error) {
	method, _ := in["method"].(string)
	rel, _ := in["relativeUrl"].(string)
	p, q, err := okta.ParseAPIPath(rel)
	if err != nil {
		var re *okta.RequestError
		if errors.As(err, &re) {
			return nil, invalidField("relativeUrl", "relativeUrl %s", re.Message).
				WithRemedy("give a path under /api/v1/ of the connection's org, such as /api/v1/devices")
		}
		return nil, err
	}
	cr := &customRequest{method: method, path: p, query: q, header: http.Header{}}
	if m, ok := in["query"].(map[string]any); ok {
		for k, v := range m {
			vals, err := stringValues(v)
			if err != nil {
				return nil, invalidField("query", "query parameter %q %s", k, err).
					WithRemedy(`give each query parameter a value or a list of values, e.g. {"limit": 20, "expand": ["user"]}`)
			}
			for _, s := range vals {
				cr.query.Add(k, s)
			}
		}
	}
	if m, ok := in["headers"].(map[string]any); ok {
		for k, v := range m {
			vals, err := stringValues(v)
			if err != nil {
				return nil, invalidField("headers", "header %q %s", k, err).
					WithRemedy(`give each header a value or a list of values, e.g. {"Accept": "application/json"}`)
			}
			cr.header[k] = append(cr.header[k], vals...)
		}
		if _, err := okta.CheckHeaders(cr.header); err != nil {
			var re *okta.RequestError
			if errors.As(err, &re) {
				return nil, invalidField("headers", "%s", re.Message).
					WithRemedy("leave out the headers the connection or the HTTP client sets (Authorization, Host, Cookie, Content-Length, ...)")
			}
			return nil, err
		}
	}
	switch b := in["body"].(type) {
	case nil:
	case string:
		cr.body = []byte(b)
	default:
		if cr.body, err = json.Marshal(b); err != nil {
			return nil, invalidField("body", "body is not JSON: %v", err).WithRemedy("give the body as a JSON value or as text")
		}
	}
	return cr, nil
}

// stringValues turns a query or header value (a scalar or a list of
// scalars) into strings.
func stringValues(v any) ([]string, error) {
	switch x := v.(type) {
	case string:
		return []string{x}, nil
	case bool:
		return []string{strconv.FormatBool(x)}, nil
	case float64:
		return []string{strconv.FormatFloat(x, 'f', -1, 64)}, nil
	case json.Number:
		return []string{x.String()}, nil
	case int:
		return []string{strconv.Itoa(x)}, nil
	case []string:
		return x, nil
	case []any:
		var out []string
		for _, e := range x {
			s, err := stringValues(e)
			if err != nil || len(s) != 1 {
				return nil, fmt.Errorf("must be a value or a list of values")
			}
			out = append(out, s[0])
		}
		return out, nil
	}
	return nil, fmt.Errorf("must be a value or a list of values, not %s", kind(v))
}

// inferScope returns the scope a custom call needs where the path is known
// to cardflow (the Devices API), and "" elsewhere (left to Okta).
func inferScope(method, path string) string {
	if path != "/api/v1/devices" && !strings.HasPrefix(path, "/api/v1/devices/") {
		return ""
	}
	if method == http.MethodGet {
		return ScopeRead
	}
	return ScopeManage
}

func customAPIAction(ctx context.Context, iv *invocation) (map[string]any, error) {
	cr, err := parseCustom(iv.in)
	if err != nil {
		return nil, err
	}
	res, err := iv.client.Do(ctx, cr.method, cr.path, cr.query, cr.header, cr.body)
	if err != nil {
		var re *okta.RequestError
		if errors.As(err, &re) {
			return nil, invalidField(re.Field, "input %s: %s", re.Field, re.Message).
				WithRemedy("correct %s and run the card again", re.Field)
		}
		return nil, err
	}
	headers := map[string]any{}
	for k, vs := range res.Header {
		headers[k] = strings.Join(vs, ", ")
	}
	return map[string]any{"status": res.Status, "headers": headers, "body": bodyValue(res)}, nil
}

// bodyValue decodes a JSON body; other bodies come back as text, an empty
// one as null.
func bodyValue(res *okta.RawResponse) any {
	if len(res.Body) == 0 {
		return nil
	}
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt == "application/json" || strings.HasSuffix(mt, "+json") {
		var v any
		if json.Unmarshal(res.Body, &v) == nil {
			return v
		}
	}
	return string(res.Body)
}
