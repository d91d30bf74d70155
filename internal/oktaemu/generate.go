package oktaemu

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// generateDevices returns n demo devices. Device i depends only on i, the
// owners and start, so the same n always yields the same devices (and the
// first devices of a larger org are those of a smaller one). Timestamps are
// relative to start (the org's start day) and spread over the past ~200 days
// for lastUpdated, so stale-device searches find something.
func generateDevices(n int, owners []string, start time.Time) []*device {
	out := make([]*device, 0, n)
	for i := range n {
		out = append(out, generateDevice(i, owners, start))
	}
	return out
}

// firstStatuses makes sure even a tiny org has every status.
var firstStatuses = []string{"ACTIVE", "SUSPENDED", "DEACTIVATED", "CREATED"}

var teams = []string{"Eng-dev", "Eng-qa", "Sales", "Finance", "Support", "Design", "Ops", "Legal"}

type hwModel struct{ manufacturer, model, tag string }

var models = map[string][]hwModel{
	"WINDOWS": {{"Dell Inc.", "Latitude 7440", "LAT"}, {"LENOVO", "ThinkPad X1 Carbon Gen 11", "TPX"}, {"HP", "HP EliteBook 840 G10", "ELB"}, {"Microsoft Corporation", "Surface Laptop 5", "SFL"}},
	"MACOS":   {{"Apple Inc.", "MacBookPro18,3", "MBP"}, {"Apple Inc.", "Mac14,2", "MBA"}, {"Apple Inc.", "Mac14,3", "MMI"}},
	"IOS":     {{"Apple", "iPhone15,4", "IPH"}, {"Apple", "iPhone14,2", "IPH"}, {"Apple", "iPad13,16", "IPD"}},
	"ANDROID": {{"Google", "Pixel 8", "PXL"}, {"samsung", "SM-S918B", "GSX"}, {"OnePlus", "CPH2449", "OPL"}},
}

var osVersions = map[string][]string{
	"WINDOWS": {"10.0.19045", "10.0.22621", "10.0.22631", "10.0.26100"},
	"MACOS":   {"13.6.7", "14.5.0", "14.7.1", "15.1.1"},
	"IOS":     {"16.7.8", "17.5.1", "17.6.1", "18.1"},
	"ANDROID": {"12", "13", "14", "15"},
}

var encryption = map[string][]string{
	"WINDOWS": {"ALL_INTERNAL_VOLUMES", "ALL_INTERNAL_VOLUMES", "SYSTEM_VOLUME", "NONE"},
	"MACOS":   {"ALL_INTERNAL_VOLUMES", "ALL_INTERNAL_VOLUMES", "ALL_INTERNAL_VOLUMES", "NONE"},
	"IOS":     {"FULL"},
	"ANDROID": {"FULL", "FULL", "USER", "NONE"},
}

func generateDevice(i int, owners []string, start time.Time) *device {
	r := rand.New(rand.NewPCG(0x636172646600+uint64(i), 0x64657669636573))
	pick := func(xs []string) string { return xs[r.IntN(len(xs))] }
	digits := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		return b.String()
	}
	chars := func(alphabet string, n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	const upperNum = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
	const hexUpper = "0123456789ABCDEF"

	id := "guo" + chars(base62, 17)
	platform := validPlatforms[i%len(validPlatforms)]
	status := ""
	if i < len(firstStatuses) {
		status = firstStatuses[i]
	} else {
		switch p := r.IntN(100); {
		case p < 68:
			status = "ACTIVE"
		case p < 80:
			status = "SUSPENDED"
		case p < 92:
			status = "DEACTIVATED"
		default:
			status = "CREATED"
		}
	}
	m := models[platform][r.IntN(len(models[platform]))]
	created := start.Add(-time.Duration(200+r.IntN(600)) * 24 * time.Hour).Add(time.Duration(r.IntN(86400)) * time.Second)
	updated := start.Add(-time.Duration(r.IntN(200*86400)) * time.Second)
	if updated.Before(created) {
		updated = created
	}
	profile := map[string]any{
		"displayName":           fmt.Sprintf("%s-%s-%04d", pick(teams), m.tag, i),
		"platform":              platform,
		"manufacturer":          m.manufacturer,
		"model":                 m.model,
		"osVersion":             pick(osVersions[platform]),
		"registered":            r.IntN(10) != 0,
		"secureHardwarePresent": r.IntN(5) != 0,
		"diskEncryptionType":    pick(encryption[platform]),
	}
	switch platform {
	case "WINDOWS":
		profile["serialNumber"] = chars(upperNum, 10)
		profile["sid"] = fmt.Sprintf("S-1-5-21-%s-%s-%s-%d", digits(10), digits(10), digits(10), 1000+r.IntN(9000))
		profile["tpmPublicKeyHash"] = strings.ToLower(chars(hexUpper, 64))
		profile["udid"] = uuidish(chars(hexUpper, 32))
	case "MACOS":
		profile["serialNumber"] = chars(upperNum, 10)
		profile["udid"] = uuidish(chars(hexUpper, 32))
	case "IOS":
		profile["serialNumber"] = chars(upperNum, 12)
		profile["imei"] = "35" + digits(13)
		profile["meid"] = "35" + digits(12)
		profile["integrityJailbreak"] = r.IntN(40) == 0
		profile["managed"] = r.IntN(3) != 0
	case "ANDROID":
		profile["serialNumber"] = chars(upperNum, 11)
		profile["imei"] = "35" + digits(13)
		profile["integrityJailbreak"] = r.IntN(30) == 0
		profile["managed"] = r.IntN(2) == 0
	}
	d := &device{id: id, status: status, created: created, lastUpdated: updated, profile: profile}
	nUsers := r.IntN(4)
	if status == "DEACTIVATED" {
		nUsers = 0
	}
	for k := 0; k < nUsers && len(owners) > 0; k++ {
		u := owners[r.IntN(len(owners))]
		dup := false
		for _, x := range d.users {
			dup = dup || x.userID == u
		}
		if dup {
			continue
		}
		ms := "NOT_MANAGED"
		if managed, _ := profile["managed"].(bool); managed || platform == "MACOS" || platform == "WINDOWS" && r.IntN(2) == 0 {
			ms = "MANAGED"
		}
		d.users = append(d.users, deviceUser{userID: u, managementStatus: ms,
			screenLockType: []string{"BIOMETRIC", "PASSCODE", "NONE"}[r.IntN(3)], created: created.Add(time.Hour)})
	}
	d.tmpl = d.template()
	return d
}

func uuidish(h string) string {
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
