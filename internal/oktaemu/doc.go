// Package oktaemu emulates the parts of an Okta org that cardflow uses, as
// an http.Handler: the org authorization server (discovery, authorize with
// a sign-in form, token, keys, userinfo, introspect, revoke), the Devices
// API with SCIM search and Link paging, users, admin roles (assigned and
// taken away with Okta's role assignment API), apps, app users
// and scope grants, with Okta's error bodies, SSWS and Bearer
// authentication, scope and admin-role checks and per-bucket rate limits,
// the System Log and event hooks with their deliveries.
// State lives in memory; an Org is safe for concurrent use. The issuer and
// origin are "http://" + the request's Host, so an org works on any port.
//
// # Demo org
//
// Without a fixture an org is the demo org: SSWS token
// DemoAPIToken (acting as AdminLogin), users AdminLogin (SUPER_ADMIN),
// ReadOnlyLogin (READ_ONLY_ADMIN), UserLogin (no role) — all assigned to the
// app — and UnassignedLogin (SUPER_ADMIN, not assigned), all with password
// DemoPassword, plus twelve employees who own devices; the web app
// DemoAppID ("Okta Workflows OAuth", client DemoClientID / DemoClientSecret,
// redirect URIs http://127.0.0.1:PORT/oauth/callback and
// http://localhost:PORT/oauth/callback on any port) granted the seven
// autoGrantedScopes, okta.devices.read and okta.devices.manage; the service
// app DemoServiceAppID (client DemoServiceClientID, private_key_jwt with the
// keys of Config.ServiceAppJWKS, granted okta.devices.read and
// okta.devices.manage, role SUPER_ADMIN); the service app DemoDPoPAppID
// (client DemoDPoPClientID, the same keys, grants and role, requiring
// DPoP); cardflow's own sign-in app
// DemoConsoleAppID (client DemoConsoleClientID / DemoConsoleClientSecret,
// any path on a loopback origin, the four demo users assigned) with the
// groups AdminsGroup (AdminLogin), OperatorsGroup (ReadOnlyLogin) and
// ViewersGroup (UserLogin); and Config.Devices generated
// devices. Device i is always the same device (id, status, profile, users);
// its timestamps are relative to the day the org starts, with lastUpdated
// spread over the past ~200 days.
//
// # Fixture format
//
// A fixture (LoadFixture, oktaemu -fixture FILE) replaces the demo org. It
// is one JSON object; unknown fields are errors:
//
//	{
//	  "users": [
//	    {"id": "00u...", "login": "admin@example.com", "firstName": "Ada", "lastName": "Admin",
//	     "email": "admin@example.com", "password": "Demo-Passw0rd!", "roles": ["SUPER_ADMIN"]}
//	  ],
//	  "apiTokens": [{"token": "demo-api-token", "user": "admin@example.com"}],
//	  "apps": [
//	    {"id": "0oaworkflows", "label": "Okta Workflows OAuth", "type": "web",
//	     "clientId": "0oaworkflowsclient", "clientSecret": "demo-workflows-secret",
//	     "redirectUris": ["http://127.0.0.1/oauth/callback"],
//	     "users": ["admin@example.com"],
//	     "grants": ["openid", "profile", "email", "phone", "address", "groups", "offline_access",
//	                "okta.devices.read", "okta.devices.manage"]},
//	    {"id": "0oaservice", "label": "Service", "type": "service", "clientId": "0oaserviceclient",
//	     "grants": ["okta.devices.read"], "roles": ["READ_ONLY_ADMIN"],
//	     "jwks": {"keys": [{"kty": "RSA", "kid": "k1", "n": "...", "e": "AQAB"}]}, "dpop": false}
//	  ],
//	  "groups": [{"name": "cardflow-admins", "users": ["admin@example.com"]}],
//	  "devices": [
//	    {"id": "guo4a5u7JHHhjXrMK0g4", "status": "ACTIVE",
//	     "created": "2024-01-02T03:04:05.000Z", "lastUpdated": "2024-06-01T00:00:00.000Z",
//	     "profile": {"displayName": "Eng-dev-MBP-0001", "platform": "MACOS", "registered": true,
//	                 "serialNumber": "C02XK1ABCD12", "osVersion": "14.5.0"},
//	     "users": [{"user": "admin@example.com", "managementStatus": "MANAGED", "screenLockType": "BIOMETRIC"}]}
//	  ],
//	  "generateDevices": 0
//	}
//
// Users: login is required; id defaults to a stable id derived from the
// login, email to the login; roles are Okta admin role types (SUPER_ADMIN,
// ORG_ADMIN, READ_ONLY_ADMIN, MOBILE_ADMIN, HELP_DESK_ADMIN, ...).
// SUPER_ADMIN may do everything, ORG_ADMIN and MOBILE_ADMIN everything but
// grant scopes, any other role only reads, no role nothing. apiTokens are
// SSWS tokens acting as a user (by login or id) with every scope. Apps:
// type "web" needs clientSecret and uses the authorization code and refresh
// token grants; type "service" authenticates with private_key_jwt against
// jwks (a JWK Set; Config.ServiceAppJWKS replaces the keys of the app whose
// clientId is 0oaserviceclient or 0oaservicedpopclient) and uses the
// client credentials grant only (one-hour access tokens, no refresh token;
// every requested scope must be granted, else invalid_scope), acting with
// its own roles; "dpop": true makes it require DPoP proofs
// ("dpopResourceNonce": true: on API calls too, with the resource server's
// nonce; see below). A redirect URI on 127.0.0.1, localhost or
// [::1] without a port matches that URI on any port, a loopback origin
// followed by "/*" (http://127.0.0.1/*) any path on any port; other redirect
// URIs match exactly. groups name their members (logins or ids); ID tokens
// and userinfo carry the names of the user's groups in the groups claim
// when the groups scope was asked for. users (logins or ids) are assigned to the app; grants are
// the scopes granted to it. Devices: profile needs displayName, platform
// (ANDROID, IOS, MACOS, WINDOWS) and registered; other profile fields are
// free (strings, booleans, numbers); status is CREATED, ACTIVE (default),
// SUSPENDED or DEACTIVATED; id defaults to a generated guo id; times are
// RFC 3339 and default to the org's start day; device users name a user by
// login or id (managementStatus MANAGED|NOT_MANAGED, screenLockType
// NONE|PASSCODE|BIOMETRIC). generateDevices adds that many demo devices
// owned by the fixture's users.
//
// # Token lifetimes and DPoP
//
// Access tokens live one hour. A login's refresh tokens live 90 days from
// the code exchange and every rotated refresh token keeps that expiry
// (Okta's org authorization server has no idle expiry); introspection
// answers it as exp, and after it a refresh is invalid_grant. Client
// assertions (exp at most an hour ahead, jti never reused) and DPoP proofs
// (iat within five minutes) are accepted against either the configured
// clock or the emulator clock, since a client signs with its own clock.
//
// A scope grant revoked on the app (DELETE /api/v1/apps/{appId}/grants/{id})
// ends no token: access tokens already issued keep their scopes until they
// expire, and refresh tokens stay valid (Okta revokes tokens only when the
// user, the app or the authorization server goes). A refresh leaves every
// Okta API scope (okta.*) the app no longer grants out of the new access
// token, and the answer's scope lists what the token carries; the refresh
// token keeps the login's scopes, so a scope granted again comes back with
// the next refresh. Okta documents that the grants are checked when a token
// is requested, not what a refresh does after a revocation: this is the
// likeliest behaviour, unconfirmed.
//
// For a service app with "dpop": true, a token request needs a DPoP proof
// (RFC 9449: typ dpop+jwt, an RS or ES alg, the public jwk, htm, htu, iat,
// a jti never used before, and the server's nonce: a proof without a
// current nonce is answered 400 use_dpop_nonce with a DPoP-Nonce header;
// nonces change daily and are accepted for three days). Its access token
// has token_type DPoP and is bound to the proof key. Resource calls with it
// need "Authorization: DPoP" and a proof with ath; refusals come as Okta's
// invalid_dpop_proof / invalid_request / invalid_token in a
// WWW-Authenticate: DPoP header with an empty body. With
// "dpopResourceNonce": true as well, those proofs also need the resource
// server's own nonce (not the authorization server's): without a current
// one a call is answered 401 use_dpop_nonce with a DPoP-Nonce header
// (RFC 9449 §9). Okta asks for none today ("the nonce parameter isn't
// currently required"); the option is for clients that must cope when it
// does.
//
// An API call with an access token that is expired, revoked or unknown is
// answered 401 E0000011 with a challenge of the call's scheme (Bearer, or
// DPoP with its algs) carrying error="invalid_token" and
// error_description "The token has expired." or "The access token is
// invalid." (the challenge is the likeliest form, unconfirmed; Okta's
// body is E0000011 either way). A bad SSWS token gets E0000011 alone.
//
// GET and POST /api/v1/apps/{appId}/credentials/jwks list and add a
// service app's public keys (a JWK with a unique kid), as an admin does on
// the app's Client Credentials section; GET and DELETE .../jwks/{keyId}
// and POST .../jwks/{keyId}/lifecycle/{activate,deactivate} (keyId is the
// key's "pks" id) read, delete (only an inactive key) and switch a key
// (never the only active one); a deactivated key signs no assertion.
//
// A web app's client secrets are managed as in Okta: GET and POST
// /api/v1/apps/{appId}/credentials/secrets (at most two; a new one is
// active, generated unless client_secret is given), GET and DELETE
// .../secrets/{secretId} (only an inactive one is deleted) and POST
// .../secrets/{secretId}/lifecycle/{activate,deactivate} (never the only
// active one). Any active secret authenticates the client; tokens are not
// bound to a secret, so a refresh token lives on through a rotation. POST
// /api/v1/apps/{appId}/lifecycle/deactivate makes an app INACTIVE and
// revokes every token issued to it (Okta revokes refresh tokens when the
// client app is deactivated); an inactive app's client authentication
// fails (invalid_client) and its sign-ins end on the error page, until
// POST .../lifecycle/activate. The secret listing shows the secrets in
// full (Okta may mask them; unconfirmed).
//
// # Admin roles
//
// The admin roles of a user (SSWS tokens and user access tokens act with
// the user's) or of a service app (client credentials tokens) decide what
// an API call may do: SUPER_ADMIN everything; ORG_ADMIN and MOBILE_ADMIN
// everything but what only a super admin does (grant scopes, add or
// switch a service app's keys, manage event hooks, assign roles); any
// other role reads; no role nothing. A refusal is 403 E0000006. Roles are
// checked when a call is made, from the roles held then, as Okta does: a
// role assigned or taken away decides the next call, with access tokens
// issued before too (tokens are issued whatever the roles).
//
// Okta's role assignment API, for standard roles, of users and of client
// apps ({userId} is a user's id or login, {clientId} an app's client ID):
//
//   - GET /api/v1/users/{userId}/roles and GET
//     /oauth2/v1/clients/{clientId}/roles list the assignments
//     (okta.roles.read; any admin role); GET .../roles/{roleAssignmentId}
//     reads one.
//   - POST .../roles {"type": ROLE} assigns a standard role
//     (okta.roles.manage; a super admin only): 201 for a user, 200 for a
//     client app, as Okta's document has it, with the assignment {id,
//     label, type, status ACTIVE, created, lastUpdated, assignmentType
//     USER or CLIENT, _links.assignee}. A role the holder has already is
//     409 E0000090 "The role specified is already assigned to the user.".
//   - DELETE .../roles/{roleAssignmentId} takes it away (204; a super
//     admin only).
//
// An assignment made or taken away is recorded in the System Log (see
// below): user.account.privilege.grant and user.account.privilege.revoke
// for a user, app.oauth2.client.privilege.grant and
// app.oauth2.client.privilege.revoke for a client app (the names of
// Okta's event catalogue, which makes all four eligible for event hooks;
// Okta's 2025.05.0 release notes the client one). A refused call, a role
// held already and the last super admin's kept role record nothing.
//
// An unknown user, client or assignment is 404 E0000007; a body that is
// not JSON 400 E0000003. These calls count in the users-and-roles
// rate-limit bucket; a fault on /oauth2/v1/clients/ answers Okta's error
// body, as on the rest of the management API. POST /_emulator/reset
// brings back the fixture's roles.
//
// Choices where Okta's documentation is silent (the likeliest behaviour,
// UNCONFIRMED):
//   - Only a super admin assigns and takes away roles, whoever the
//     holder (Okta's help: only super admins edit or revoke admins). A
//     super admin may take away their own roles.
//   - The org keeps one user with SUPER_ADMIN (Okta's help: the last
//     individually assigned super admin's role cannot be revoked):
//     DELETE of that assignment is 400 E0000001 with a cause saying so;
//     Okta's code for it is not documented. A client app's SUPER_ADMIN
//     does not count.
//   - A type that is not a standard role (CUSTOM, the IAM-based
//     ACCESS_CERTIFICATIONS_ADMIN and ACCESS_REQUESTS_ADMIN, anything
//     unknown) is 400 E0000001 "Api validation failed: type": custom
//     roles, resource sets, group assignments and role targets are not
//     emulated. MOBILE_ADMIN is taken though Okta's document leaves it out
//     of the request's enum (it lists it among the roles a user has).
//   - Only an API Services app (type "service") takes a role; a role for
//     a web app's client is 400 E0000001.
//   - A client app's assignment id is the base32 of its type, as in
//     Okta's examples (JBCUYUC7IRCVGS27IFCE2SKO for HELP_DESK_ADMIN), and
//     its assignee link the client's roles URL, as there; a user's new
//     assignment has a new ra1 id. The 409 summary says "user" for a
//     client app too.
//   - A privilege event's targets are the holder (a user as
//     {id, type "User", alternateId: login, displayName}, a client app
//     as it acts, {id: client ID, type "PublicClientApp", alternateId:
//     client ID, displayName: label}) and the role as {id: assignment id,
//     type "ROLE", alternateId: role type, displayName: label}, with the
//     label in debugData's privilegeGranted or privilegeRevoked; the
//     display messages are "Grant user privilege", "Revoke user
//     privilege", "Grant client privilege" and "Revoke client privilege".
//     A client app's events are recorded for every role, not only for
//     SUPER_ADMIN, which is all Okta's release note names.
//
// # Control endpoints
//
// Under /_emulator/ (never counted, faulted or rate limited):
//
//   - POST /_emulator/clock {"advance":"3600s"} moves the emulator clock
//     forward (a Go duration); answers {"now": "..."}. Token, code and
//     rate-limit lifetimes follow this clock.
//   - POST /_emulator/faults {"method":"POST","path":"/oauth2/v1/token","status":503,"count":1}
//     makes the next count requests that match fail with status. path is a
//     route pattern (/api/v1/devices/{deviceId}/lifecycle/suspend) or a
//     literal path; an empty method matches any. Faults on /oauth2/ answer
//     an OAuth error body; on the API, 429 answers E0000047 with
//     rate-limit headers, 5xx E0000009, 404 E0000007, 401 E0000011, 403
//     E0000006, others E0000001. More options:
//     "skip": N lets N matching requests through first (a fault on the
//     second page of a listing). "body" picks the kind of answer: "json" (the default above), "html"
//     (an HTML error page, as a proxy or Okta's edge serves), "empty" (no
//     body), "truncated" (the body cut in half, with a matching
//     Content-Length), "echo" (a plain-text page repeating the request's
//     line, headers and body, credentials included, as a proxy's or a
//     firewall's diagnostic page does), "cut" (the whole body declared,
//     half sent, then the connection reset), "reset" (the connection reset, no answer;
//     no status) or "hang" (no answer until the client gives up; no
//     status). "after": true serves the request first, so its change is
//     made (a refresh token rotated, a device suspended), and then
//     replaces or loses the answer; with "status" 0 the org's own answer
//     is kept (to be truncated, cut or given other headers). "headers"
//     {"Name": "value"} sets answer headers, an empty value removes one
//     (Date included); "resetIn": "-30s" sets X-Rate-Limit-Reset to the
//     org's clock plus that duration; "delay": "2s" holds the answer that
//     long (real time) first.
//   - DELETE /_emulator/faults drops the faults not used up yet, the
//     event hook faults included.
//   - GET /_emulator/stats answers {"requests":{"GET /api/v1/devices":3,...}}
//     counted by method and route pattern.
//   - POST /_emulator/faults {"hook":"drop"|"duplicate"|"delay","count":N,"delay":"5s"}
//     drops, doubles (the same delivery, same eventId, twice) or delays
//     (until the emulator clock has moved on by delay) the next N event
//     hook deliveries. With "probability": p (0 < p ≤ 1) and an optional
//     "seed", each delivery is affected with probability p, decided by a
//     generator seeded with seed (so a run repeats), at most count times
//     (count 0: until reset).
//   - GET /_emulator/stats also answers "deliveries": {"sent", "failed",
//     "dropped", "duplicated", "delayed", "retried", "pending"}
//     (DeliveryStats); Org.WaitDeliveries waits until no delivery is due.
//   - POST /_emulator/devices {"user": LOGIN, "platform", "displayName",
//     "serialNumber", "osVersion", "manufacturer", "model"} enrolls a new
//     ACTIVE device for the user (answers 201 and the device) and records
//     device.enrollment.create and device.user.add.
//   - POST /_emulator/devices/{id}/users {"user": LOGIN} and
//     DELETE /_emulator/devices/{id}/users/{login} add and remove a
//     device's user, recording device.user.add and device.user.remove.
//     The user is the actor of these events (they act in Okta Verify).
//   - POST /_emulator/groups/{name}/users {"user": LOGIN} and
//     DELETE /_emulator/groups/{name}/users/{login} put a user in a group
//     (by name or id) and take them out: ID tokens and userinfo answered
//     from then on name the groups they are in then.
//   - POST /_emulator/users/{login}/claims {"preferred_username": CLAIM,
//     "email": CLAIM} makes the ID tokens and userinfo answered for the
//     user from then on claim those (either may be left out; "" goes back
//     to the user's login or email), as an identity provider where people
//     or lesser admins change these claims does: a test can make one user
//     claim another's login while its sub stays its own. The user still
//     signs in with their login; the claims stay until a reset.
//   - POST /_emulator/reset restores the starting state (data, tokens,
//     clock, faults, statistics, rate-limit windows, the System Log, event
//     hooks and queued deliveries).
//
// # System Log
//
// GET /api/v1/logs (okta.logs.read, or SSWS; its own rate-limit bucket)
// serves the events the org recorded: every device lifecycle change
// (device.lifecycle.activate, deactivate, suspend, unsuspend, delete),
// enrollment (device.enrollment.create), device-user change
// (device.user.add, device.user.remove), every admin role assigned or
// taken away (user.account.privilege.grant and revoke,
// app.oauth2.client.privilege.grant and revoke; see Admin roles) and the
// event hook administration events (event_hook.created, updated,
// activated, deactivated, deleted, verified, and event_hook.delivery for
// a delivery given up). The actor
// is the caller: the user of an SSWS token or of an access token (type
// User), or the service app of a client credentials token (type
// PublicClientApp, id = client ID). Targets: the device as
// {id, type: "UDDevice", alternateId: serial number or "unknown",
// displayName, detailEntry: {platform}}, and for enrollment and
// device.user.* the user as {id, type: "User", alternateId: login,
// displayName}. Parameters: since, until (ISO 8601), after (the opaque
// cursor of a next link), filter (SCIM on eventType, target.id and uuid,
// with eq, ne, gt, ge, lt, le, sw, co, ew, pr, and, or, not; anything else
// is 400 E0000053), q (keywords), limit 0–1000 (default 100) and sortOrder. Without until
// and in ascending order a request is a polling request: events in
// persistence order after since (default: 7 days ago), always with a
// rel="next" link, also when the page is empty. With until or
// DESCENDING it is bounded: published in [since, until), default the 7
// days before now, with a next link only while more remain. since more
// than 180 days back is 400 E0000053; events older than 90 days are not
// served. Persistence time and publication time are the same here. An
// after that is not a cursor the org served is 400 E0000001 (Api
// validation failed: after). Okta documents no age limit for a polling
// cursor; the likeliest is that one is a since in disguise: a polling
// cursor is stamped with the time its position last moved (a page that
// finds nothing new links on with the cursor it was asked with), and one
// stamped more than 180 days ago is refused as such a since is, 400
// E0000001 with the cause "after: The after cursor is more than 180 days
// old; start again with since." (unconfirmed).
//
// # Event hooks
//
// /api/v1/eventHooks (list, create, get, replace, delete) and
// /api/v1/eventHooks/{id}/lifecycle/{activate,deactivate,verify}, with
// okta.eventHooks.read for reads and okta.eventHooks.manage (and a super
// admin) for changes. Create answers 200 with an ACTIVE, UNVERIFIED hook
// (id "who..."); authScheme.value is never returned; replacing the
// channel makes it UNVERIFIED again; only an INACTIVE hook can be
// deleted. Verification sends GET uri with X-Okta-Verification-Challenge,
// the auth header and the custom headers, and wants 200 with
// {"verification": <challenge>}; one retry; failure is 400 E0000001
// "Unable to verify event hook. Hook NAME execution failed". Only ACTIVE
// and VERIFIED hooks receive events: the org POSTs Okta's envelope
// ({eventType: "com.okta.event_hook", eventTypeVersion "1.0",
// cloudEventsVersion "0.1", source, eventId, eventTime, contentType,
// data.events: [LogEvent...]}) with Accept and Content-Type
// application/json, User-Agent Okta-Integrations, X-Okta-Request-Id, the
// custom headers and the auth header. Deliveries are asynchronous (an API
// call never waits for one), in order of recording per org, from one
// sender; events recorded while a delivery is in flight are batched into
// the next one (at most 50 per delivery). Each request times out after
// Config.HookTimeout (3 s); a 5xx, a timeout or a network error is retried
// once at once, a 4xx is not; a delivery given up is logged as
// event_hook.delivery and not queued again. Redirects are not followed.
//
// The emulator's one deviation: besides https:// URIs it accepts http://
// URIs on loopback hosts (127.0.0.0/8, [::1], localhost), so that a local
// server can receive deliveries.
//
// Choices where Okta's documentation is silent (the likeliest behaviour):
//   - The limit of 25 is kept as "at most 25 ACTIVE hooks": creating or
//     activating a 26th answers 400 E0000001.
//   - An ineligible or unknown event type, and DELETE of an ACTIVE hook,
//     answer 400 E0000001 with a cause naming the problem.
//   - Delivery POSTs carry User-Agent: Okta-Integrations and
//     X-Okta-Request-Id, as the verification GET does.
//   - The verification answer's Content-Type is not checked: a 200 whose
//     body is the JSON {"verification": <challenge>} verifies the hook.
//   - The retry follows the failure at once; at most 50 events per
//     delivery; redirects are not followed; a hook is never deactivated
//     for failing.
//   - Event hook filters (an Early Access feature) are not enabled: a
//     filter answers 400.
//   - A lifecycle call that changes nothing (the device is already in the
//     target state) records no event; deactivation, which drops the
//     device's users, records only device.lifecycle.deactivate.
//   - The device target's type is "UDDevice" and device.user.* and
//     enrollment events also carry the User target.
//   - A device search comparing created or lastUpdated with anything but
//     a date (Okta's YYYY-MM-DDTHH:mm:ss.SSSZ, or another RFC 3339 form,
//     which compares as the instant it names) answers 400 E0000031, as a
//     malformed filter does: a date such as "yesterday" is not compared as
//     text, under which it would come after every date.
//
// # Rate limits
//
// With Config.RateLimitPerMinute > 0 every /api/v1 response carries
// X-Rate-Limit-Limit, X-Rate-Limit-Remaining and X-Rate-Limit-Reset (epoch
// seconds of the end of the current minute on the emulator clock) and Date
// (emulator clock); each bucket (devices; users and roles, with the role
// assignments of client apps; apps and grants;
// System Log; event hooks) allows that many requests per window and then
// answers 429 E0000047.
package oktaemu
