package oktaemu

import (
	"slices"
	"strings"
)

// oktaScopeFamilies are the Okta API scopes X that exist as okta.X.read and
// okta.X.manage (from Okta's management API document).
var oktaScopeFamilies = []string{"agentPools", "apiTokens", "appGrants", "apps", "apps.interclientTrust", "authenticators", "authorizationServers", "behaviors", "botProtection", "brands", "captchas", "customTelephonyProvider", "deviceAssurance", "deviceIntegrations", "devicePostureChecks", "devices", "directories.groups", "domains", "dr", "emailDomains", "emailServers", "eventHooks", "features", "groups", "identitySources", "idps", "inlineHooks", "linkedObjects", "logStreams", "networkZones", "oauthIntegrations", "orgs", "personal.adminSettings", "policies", "principalRateLimits", "profileMappings", "pushProviders", "rateLimits", "realmAssignments", "realms", "roles", "schemas", "securityEventsProviders", "serviceAccounts", "serviceAccounts.okta", "sessions", "templates", "threatInsights", "trustedOrigins", "uischemas", "userRisk", "userTypes", "users"}

// otherOktaScopes are Okta API scopes outside the read/manage pattern.
var otherOktaScopes = []string{"okta.logs.read", "okta.users.read.self", "okta.users.manage.self",
	"okta.clients.read", "okta.clients.manage", "okta.clients.register", "okta.myAccount.read", "okta.myAccount.manage"}

// knownScope reports whether the org authorization server knows scope.
func knownScope(scope string) bool {
	if slices.Contains(autoGrantedScopes, scope) || slices.Contains(otherOktaScopes, scope) {
		return true
	}
	rest, ok := strings.CutPrefix(scope, "okta.")
	if !ok {
		return false
	}
	if fam, ok := strings.CutSuffix(rest, ".read"); ok {
		return slices.Contains(oktaScopeFamilies, fam)
	}
	if fam, ok := strings.CutSuffix(rest, ".manage"); ok {
		return slices.Contains(oktaScopeFamilies, fam)
	}
	return false
}
