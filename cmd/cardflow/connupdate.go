package main

import (
	"context"
	"fmt"
	"time"

	"github.com/cardflow/cardflow/internal/api"
)

func cmdConnectionsUpdate(ctx context.Context, e *env, args []string) error {
	fs, o := newClientFlagSet(e, "connections update",
		"connections update ID|NICKNAME (--client-secret-stdin | --client-secret-file FILE) [--client-id ID] [--no-reauthorize] [--timeout 5m] [--no-wait] [--json]\n\n"+
			"Replaces a user connection's client secret (and, with --client-id, its client ID:\n"+
			"another OAuth app of the same org). The domain, nickname and id stay. The secret\n"+
			"comes from stdin (--client-secret-stdin), a file, or the environment variable\n"+
			"CARDFLOW_CLIENT_SECRET; never from the command line. The tokens issued with the\n"+
			"previous credentials are discarded, so the connection needs reauthorization: the\n"+
			"command goes on to it (prints the authorize URL and waits) unless --no-reauthorize.\n"+
			"A service connection has a key, not a secret: use rotate-key.")
	var noReauth, noWait bool
	var clientID string
	var timeout time.Duration
	secretIn := addSecretFlags(fs, "the new client secret")
	fs.StringVar(&clientID, "client-id", "", "the new client ID; default: keep the current one")
	fs.BoolVar(&noReauth, "no-reauthorize", false, "store the new credentials and stop; reauthorize later")
	fs.DurationVar(&timeout, "timeout", 5*time.Minute, "how long to wait for the reauthorization to finish")
	fs.BoolVar(&noWait, "no-wait", false, "print the authorize URL and return without waiting")
	id, err := oneArg(fs, args, "connection id or nickname")
	if err != nil {
		return err
	}
	if noReauth && noWait {
		return usagef("--no-wait is for the reauthorization, which --no-reauthorize skips: drop one")
	}
	if err := checkWaitTimeout(timeout, noWait || noReauth); err != nil {
		return err
	}
	if err := secretIn.check(); err != nil {
		return err
	}
	c, err := o.client()
	if err != nil {
		return err
	}
	before, err := fetchReauthTarget(ctx, c, id)
	if err != nil {
		return err
	}
	// Before the secret is read: an empty one given to a service
	// connection was refused as empty, not as a secret it never has.
	if before.Auth == "service" {
		// A command that does not apply to the connection named, as
		// rotate-key of a user connection (which the server refuses).
		return usagef("connection %q is a service connection: it authenticates with a private key, not a client secret; to replace its key use rotate-key (cardflow connections rotate-key %s)", before.Nickname, before.ID)
	}
	secret, err := secretIn.read(e)
	if err != nil {
		return err
	}
	body := api.UpdateConnectionRequest{ClientID: clientID, ClientSecret: api.Secret(secret)}
	var out api.ConnectionUpdated
	if err := c.do(ctx, "PATCH", "/api/v1/connections/"+pathEscape(before.ID), body, &out); err != nil {
		return inputRefused(err, anyRefusal)
	}
	msgOut := e.stdout
	if o.json {
		msgOut = e.stderr
	}
	if noReauth {
		if o.json {
			return printJSON(e.stdout, out.Connection)
		}
		printConnection(e.stdout, &api.ConnectionDetail{Connection: out.Connection}, fetchCards(ctx, c))
		fmt.Fprintf(msgOut, "\nThe new credentials are stored. Reauthorize the connection to use them: cardflow connections reauthorize %s\n", before.ID)
		return nil
	}
	fmt.Fprintf(msgOut, "The new credentials of %s are stored; reauthorizing it.\n", before.Nickname)
	return before.reauthorize(ctx, e, o, c, api.ReauthorizeRequest{}, timeout, noWait, "the new credentials are stored, but the reauthorization could not start")
}
