package okta

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// RawResponse is Okta's answer to Do: status, headers (without Set-Cookie),
// the body (at most MaxResponseBytes) and the request id.
type RawResponse struct {
	Status    int
	Header    http.Header
	Body      []byte
	RequestID string
}

// refusedHeaders are headers a caller of Do may not set: credentials and
// the target belong to the connection, framing to net/http.
var refusedHeaders = map[string]string{
	"Authorization":       "the connection provides the credential",
	"Proxy-Authorization": "the connection provides the credential",
	"Cookie":              "the connection provides the credential",
	"Host":                "requests go to the connection's org only",
	"Content-Length":      "it is computed from the body",
	"Transfer-Encoding":   "it is set by the HTTP client",
	"Connection":          "it is set by the HTTP client",
	"Keep-Alive":          "it is set by the HTTP client",
	"Proxy-Connection":    "it is set by the HTTP client",
	"Te":                  "it is set by the HTTP client",
	"Trailer":             "it is set by the HTTP client",
	"Upgrade":             "it is set by the HTTP client",
}

// ParseAPIPath checks a relative URL for a custom API call and returns its
// cleaned path and query. The path must stay under /api/v1/ after dot
// segments and escapes are resolved; a scheme, host, user info or fragment
// is refused, so a call can never leave the connection's org.
func ParseAPIPath(rel string) (string, url.Values, error) {
	bad := func(msg string) (string, url.Values, error) {
		return "", nil, &RequestError{Field: "relativeUrl", Message: msg}
	}
	if strings.TrimSpace(rel) == "" {
		return bad("is empty")
	}
	for _, r := range rel {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return bad("contains a control character or a backslash")
		}
	}
	if strings.HasPrefix(rel, "//") {
		return bad("must be a path under /api/v1/, not a URL with a host")
	}
	u, err := url.Parse(rel)
	if err != nil {
		return bad("is not a valid relative URL: " + err.Error())
	}
	if u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return bad("must be a path under /api/v1/ of the connection's org, not a full URL")
	}
	if u.Fragment != "" || strings.Contains(rel, "#") {
		return bad("must not contain a fragment (#...)")
	}
	p := u.Path
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	clean := path.Clean(p)
	if !strings.HasPrefix(clean, "/api/v1/") {
		return bad(fmt.Sprintf("%q is not under /api/v1/", clean))
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return bad("has an invalid query: " + err.Error())
	}
	return clean, q, nil
}

// Do sends a custom request to a path under /api/v1/ of the org (see
// ParseAPIPath; a query in path is merged with query). Headers may not
// include Authorization, Host, Cookie or framing headers. A body is sent as
// JSON unless headers set another Content-Type. GETs are retried like
// GetDevice; other methods are never retried except after a 429. A non-2xx
// answer returns both the RawResponse and an *APIError or *ScopeError.
func (c *Client) Do(ctx context.Context, method, apiPath string, query url.Values, header http.Header, body []byte) (*RawResponse, error) {
	method = strings.ToUpper(strings.TrimSpace(method))
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return nil, &RequestError{Field: "method", Message: fmt.Sprintf("%q is not one of GET, POST, PUT, PATCH, DELETE", method)}
	}
	p, q, err := ParseAPIPath(apiPath)
	if err != nil {
		return nil, err
	}
	for k, vs := range query {
		q[k] = append(q[k], vs...)
	}
	h, err := CheckHeaders(header)
	if err != nil {
		return nil, err
	}
	if len(body) > 0 && h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	u, err := c.endpoint(p, q)
	if err != nil {
		return nil, err
	}
	res, err := c.send(ctx, call{op: "Custom", method: method, url: u, header: h, body: body,
		retry: method == http.MethodGet})
	if res == nil {
		return nil, err
	}
	out := &RawResponse{Status: res.status, Header: res.header.Clone(), Body: res.body, RequestID: res.requestID}
	out.Header.Del("Set-Cookie")
	return out, err
}

// CheckHeaders validates the headers of a custom request as Do does (no
// credentials, target or framing headers, no line breaks) and returns them
// canonicalised, so that a caller can refuse them before it records the call.
func CheckHeaders(header http.Header) (http.Header, error) {
	h := http.Header{}
	for k, vs := range header {
		name := http.CanonicalHeaderKey(strings.TrimSpace(k))
		if name == "" || !isToken(name) {
			return nil, &RequestError{Field: "headers", Message: fmt.Sprintf("%q is not a valid header name", k)}
		}
		if why, refused := refusedHeaders[name]; refused {
			return nil, &RequestError{Field: "headers", Message: fmt.Sprintf("%s may not be set: %s", name, why)}
		}
		for _, v := range vs {
			if strings.ContainsAny(v, "\r\n\x00") {
				return nil, &RequestError{Field: "headers", Message: fmt.Sprintf("the value of %s contains a line break or NUL", name)}
			}
			h.Add(name, v)
		}
	}
	return h, nil
}

func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return s != ""
}
