package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/sso"
)

// ssoDiscoveryWait is how long a start waits for the single sign-on
// provider's discovery document.
const ssoDiscoveryWait = 10 * time.Second

// discoverAtStart reads the single sign-on provider's discovery document
// once at start, so that a document placing the token endpoint, the keys
// or the authorization endpoint on another host than the issuer's (and
// those of -oidc-allow-host) stops the start, saying so, instead of
// failing the first sign-in. A provider that cannot be read now does not
// stop it (the server starts while its provider is down, as before): it is
// logged, and the first sign-in reads the document again, with the same
// check.
func discoverAtStart(ctx context.Context, p *sso.Provider, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, ssoDiscoveryWait)
	defer cancel()
	err := p.Discover(ctx)
	if eh := (*sso.EndpointHostError)(nil); errors.As(err, &eh) {
		return eh
	}
	if err != nil {
		attrs := []any{slog.String("issuer", p.Issuer()), slog.String("error", err.Error())}
		if pe, ok := problem.As(err); ok && pe.Err != nil {
			attrs = append(attrs, slog.String("cause", pe.Err.Error()))
		}
		log.WarnContext(ctx, "the single sign-on provider's discovery document could not be read at start; sign-ins read it again", attrs...)
	}
	return nil
}
