package card

import (
	"time"

	"github.com/cardflow/cardflow/internal/okta"
)

// oktaTime is Okta's timestamp format; card outputs use it so that flows
// can compare them with the strings SCIM filters take.
const oktaTime = "2006-01-02T15:04:05.000Z"

func formatTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(oktaTime)
}

// DeviceValue returns a device as a card output value, in Okta's JSON
// shape (id, status, created, lastUpdated, profile, resource fields, and
// _embedded.users when the list was expanded), built from plain maps,
// lists, strings and booleans so that flow expressions can read it.
func DeviceValue(d *okta.Device) map[string]any {
	p := d.Profile
	profile := map[string]any{
		"displayName": p.DisplayName,
		"platform":    p.Platform,
		"registered":  p.Registered,
	}
	setString(profile, "manufacturer", p.Manufacturer)
	setString(profile, "model", p.Model)
	setString(profile, "osVersion", p.OSVersion)
	setString(profile, "serialNumber", p.SerialNumber)
	setString(profile, "imei", p.IMEI)
	setString(profile, "meid", p.MEID)
	setString(profile, "udid", p.UDID)
	setString(profile, "sid", p.SID)
	setString(profile, "tpmPublicKeyHash", p.TPMPublicKeyHash)
	setString(profile, "diskEncryptionType", p.DiskEncryptionType)
	setBool(profile, "secureHardwarePresent", p.SecureHardwarePresent)
	setBool(profile, "integrityJailbreak", p.IntegrityJailbreak)
	setBool(profile, "managed", p.Managed)
	out := map[string]any{
		"id":                  d.ID,
		"status":              d.Status,
		"created":             formatTime(d.Created),
		"lastUpdated":         formatTime(d.LastUpdated),
		"profile":             profile,
		"resourceType":        d.ResourceType,
		"resourceId":          d.ResourceID,
		"resourceAlternateId": nil,
		"resourceDisplayName": nil,
	}
	if d.ResourceAlternateID != "" {
		out["resourceAlternateId"] = d.ResourceAlternateID
	}
	if d.ResourceDisplayName != nil {
		out["resourceDisplayName"] = map[string]any{"value": d.ResourceDisplayName.Value, "sensitive": d.ResourceDisplayName.Sensitive}
	}
	if d.Embedded != nil {
		out["_embedded"] = map[string]any{"users": deviceUsersValue(d.Embedded.Users)}
	}
	return out
}

// deviceUsersValue returns device users as card output values.
func deviceUsersValue(users []okta.DeviceUser) []any {
	out := make([]any, len(users))
	for i, u := range users {
		out[i] = DeviceUserValue(u)
	}
	return out
}

// DeviceUserValue returns one device user as a card output value, in
// Okta's JSON shape; empty fields are left out.
func DeviceUserValue(du okta.DeviceUser) map[string]any {
	u := du.User
	user := map[string]any{"id": u.ID}
	setString(user, "status", u.Status)
	setString(user, "realmId", u.RealmID)
	setString(user, "created", u.Created)
	setString(user, "activated", u.Activated)
	setString(user, "statusChanged", u.StatusChanged)
	setString(user, "lastLogin", u.LastLogin)
	setString(user, "lastUpdated", u.LastUpdated)
	setString(user, "passwordChanged", u.PasswordChanged)
	profile := map[string]any{}
	setString(profile, "login", u.Profile.Login)
	setString(profile, "email", u.Profile.Email)
	setString(profile, "firstName", u.Profile.FirstName)
	setString(profile, "lastName", u.Profile.LastName)
	setString(profile, "displayName", u.Profile.DisplayName)
	setString(profile, "secondEmail", u.Profile.SecondEmail)
	setString(profile, "mobilePhone", u.Profile.MobilePhone)
	user["profile"] = profile
	out := map[string]any{"user": user}
	setString(out, "created", du.Created)
	setString(out, "managementStatus", du.ManagementStatus)
	setString(out, "screenLockType", du.ScreenLockType)
	return out
}

// setString sets m[k] to v unless v is empty.
func setString(m map[string]any, k, v string) {
	if v != "" {
		m[k] = v
	}
}

// setBool sets m[k] to *v unless v is nil.
func setBool(m map[string]any, k string, v *bool) {
	if v != nil {
		m[k] = *v
	}
}

// outputDeviceName is the display name of the device a run acted on
// (its input's deviceId) as its own output shows it (read-device's
// device); "" when the output does not.
func outputDeviceName(out map[string]any, in map[string]any) string {
	id, _ := in["deviceId"].(string)
	d, _ := out["device"].(map[string]any)
	if id == "" || d == nil || d["id"] != id {
		return ""
	}
	p, _ := d["profile"].(map[string]any)
	name, _ := p["displayName"].(string)
	return name
}
