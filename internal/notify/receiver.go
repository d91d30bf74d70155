package notify

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/cardflow/cardflow/internal/spelling"
	"github.com/cardflow/cardflow/internal/store"
)

// Receiver is one notification receiver (-notify-url). Its URL is a
// credential: an incoming webhook (Slack, Teams, Google Chat) posts
// whatever it is sent, and its path or query is the only key. A Receiver
// therefore shows itself (String, Format, GoString, MarshalText,
// LogValue) as its scheme and host and its fingerprint only, e.g.
// "https://hooks.slack.com/… (receiver 3f9a1c20)", and the outbox names it
// by its Digest. The zero value is no receiver.
type Receiver struct {
	// p is a pointer so that fmt, printing a struct that holds a Receiver
	// in an unexported field (where it cannot call String), prints an
	// address rather than the URL.
	p *receiverURL
}

type receiverURL struct {
	raw    string // the URL as configured: the secret
	digest string // store.ReceiverDigest(raw)
	shown  string // scheme://host/… (receiver FINGERPRINT)
	body   string // BodyCardflow, BodySlack, BodyGoogleChat or BodyTeams
}

// The bodies a receiver takes: cardflow's signed JSON message, or the
// message as a chat post, which an incoming webhook of a chat service
// takes (it refuses cardflow's JSON: Slack answers 400 no_text).
const (
	BodyCardflow   = "cardflow"
	BodySlack      = "slack"      // {"text": ...}
	BodyGoogleChat = "googlechat" // {"text": ...}
	BodyTeams      = "teams"      // a message with one Adaptive Card
)

var bodies = []string{BodyCardflow, BodySlack, BodyGoogleChat, BodyTeams}

// bodyFor is the body a receiver at host takes when its -notify-url names
// none: the chat services' webhook hosts take their chat post.
func bodyFor(host string) string {
	host = strings.ToLower(host)
	switch {
	case host == "hooks.slack.com":
		return BodySlack
	case host == "chat.googleapis.com":
		return BodyGoogleChat
	case strings.HasSuffix(host, ".webhook.office.com"), strings.HasSuffix(host, ".logic.azure.com"),
		strings.HasSuffix(host, ".powerplatform.com"), strings.HasSuffix(host, ".powerautomate.com"):
		return BodyTeams
	}
	return BodyCardflow
}

// ParseReceiver checks that raw is an absolute http:// or https:// URL
// with a host, optionally after the body it takes and "="
// ("slack=https://…"); without one, the body is the chat post of a chat
// service's webhook host (hooks.slack.com, chat.googleapis.com, Teams'
// and Power Automate's), else cardflow's JSON. Its error shows raw only
// by its fingerprint.
func ParseReceiver(raw string) (Receiver, error) {
	body := ""
	if name, rest, ok := strings.Cut(raw, "="); ok && !strings.ContainsAny(name, ":/?#") {
		if !slices.Contains(bodies, name) {
			return Receiver{}, fmt.Errorf("notification receiver %s=… names the body %q, which cardflow does not know%s: give one of %s before the URL (%s=https://…), or the URL alone",
				name, name, spellingHint(name), strings.Join(bodies, ", "), BodySlack)
		}
		body, raw = name, rest
	}
	digest := store.ReceiverDigest(raw)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		// url.Parse's error quotes the URL: it is not wrapped.
		return Receiver{}, fmt.Errorf("notification receiver %s is not an http:// or https:// URL with a host: give it as https://host/path "+
			"(%[1]s is the start of its SHA-256: printf %%s 'URL' | sha256sum | cut -c1-8 tells which of yours it is)", fingerprintOf(digest))
	}
	if body == "" {
		body = bodyFor(u.Hostname())
	}
	return Receiver{&receiverURL{raw: raw, digest: digest, body: body, shown: u.Scheme + "://" + u.Host + "/… (receiver " + fingerprintOf(digest) + ")"}}, nil
}

func spellingHint(name string) string {
	if near := spelling.Closest(strings.ToLower(name), bodies); len(near) > 0 {
		return fmt.Sprintf(" (did you mean %s?)", near[0])
	}
	return ""
}

// Body is the body the receiver takes: BodyCardflow, BodySlack,
// BodyGoogleChat or BodyTeams.
func (r Receiver) Body() string {
	if r.p == nil {
		return ""
	}
	return r.p.body
}

// ParseReceivers parses each URL (ParseReceiver), leaving out repeats of
// a URL, so that a receiver given twice gets each message once.
func ParseReceivers(raws []string) ([]Receiver, error) {
	var rs []Receiver
	seen := map[string]bool{}
	var errs []error
	for _, raw := range raws {
		r, err := ParseReceiver(raw)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !seen[r.Digest()] {
			seen[r.Digest()] = true
			rs = append(rs, r)
		}
	}
	return rs, errors.Join(errs...)
}

func fingerprintOf(digest string) string { return digest[:8] }

// Digest names the receiver in the outbox: store.ReceiverDigest of its
// URL, the hex SHA-256; "" for the zero Receiver.
func (r Receiver) Digest() string {
	if r.p == nil {
		return ""
	}
	return r.p.digest
}

// Fingerprint is the first 8 hex digits of Digest: enough to tell
// receivers apart in logs, nothing to reach one with. An operator finds a
// URL's with `printf %s URL | sha256sum | cut -c1-8`.
func (r Receiver) Fingerprint() string {
	if r.p == nil {
		return ""
	}
	return fingerprintOf(r.p.digest)
}

// String is the receiver as logs and errors show it:
// "scheme://host/… (receiver FINGERPRINT)".
func (r Receiver) String() string {
	if r.p == nil {
		return "no receiver"
	}
	return r.p.shown
}

// GoString is String, for %#v.
func (r Receiver) GoString() string { return r.String() }

// Format writes String for every verb.
func (r Receiver) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(r.String())) }

// MarshalText is String, for JSON and other encoders.
func (r Receiver) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// LogValue makes slog record String.
func (r Receiver) LogValue() slog.Value { return slog.StringValue(r.String()) }

// excerpt is the start of a receiver's answer to show in an error
// (": no_text", Slack's reason for a 400), "" for none or an HTML page.
// Every part of the receiver's path and query that could be its key is
// left out, in case the answer quotes the request.
func (r Receiver) excerpt(answer []byte) string {
	text := strings.TrimSpace(strings.ToValidUTF8(string(answer), ""))
	if text == "" || strings.HasPrefix(text, "<") {
		return ""
	}
	text = strings.Map(func(c rune) rune {
		if c < ' ' || c == 0x7f {
			return ' '
		}
		return c
	}, text)
	if u, err := url.Parse(r.url()); err == nil {
		parts := strings.FieldsFunc(u.EscapedPath()+"&"+u.RawQuery, func(c rune) bool { return strings.ContainsRune("/?&=", c) })
		for _, p := range parts {
			if len(p) >= 6 {
				text = strings.ReplaceAll(text, p, "…")
				if un, err := url.PathUnescape(p); err == nil && len(un) >= 6 {
					text = strings.ReplaceAll(text, un, "…")
				}
			}
		}
	}
	if n := 200; len(text) > n {
		for n > 0 && !utf8.RuneStart(text[n]) {
			n--
		}
		text = text[:n] + "…"
	}
	return ": " + text
}

// url is the receiver's URL, for the request only.
func (r Receiver) url() string { return r.p.raw }
