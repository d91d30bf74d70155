package oktaemu

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// scimDevice is the attribute view of one device as the Devices handler
// exposes it to filters.
var scimDevice = map[string]any{
	"id":                            "guo4a5u7JHHhjXrMK0g4",
	"status":                        "ACTIVE",
	"lastUpdated":                   "2024-12-24T10:00:00.000Z",
	"profile.displayName":           "Eng-dev MacBook \"Pro\" \\ 14",
	"profile.platform":              "MACOS",
	"profile.registered":            true,
	"profile.secureHardwarePresent": false,
	"profile.serialNumber":          "C02XK1ABCDEF",
	"profile.sid":                   "S-1-5-21-1234",
	"profile.osVersion":             "14.4.1",
	"profile.meid":                  nil,
	"profile.count":                 3.0,
	"profile.model":                 "Straße",
}

func getAttr(attrs map[string]any) func(string) (any, bool) {
	return func(a string) (any, bool) {
		v, ok := attrs[a]
		return v, ok
	}
}

func TestParseFilterMatch(t *testing.T) {
	tests := []struct {
		name   string
		filter string
		want   bool
	}{
		{"eq status", `status eq "ACTIVE"`, true},
		{"eq status other", `status eq "SUSPENDED"`, false},
		{"eq value case-insensitive", `status eq "active"`, true},
		{"operator case-insensitive", `status EQ "ACTIVE"`, true},
		{"attribute case-sensitive", `Status eq "ACTIVE"`, false},
		{"ne", `status ne "ACTIVE"`, false},
		{"ne other", `status ne "DEACTIVATED"`, true},
		{"ne absent", `profile.imei ne "1"`, true},
		{"eq id", `id eq "guo4a5u7JHHhjXrMK0g4"`, true},
		{"sw", `profile.displayName sw "Eng-dev"`, true},
		{"sw case-insensitive", `profile.displayName sw "eng-DEV"`, true},
		{"sw longer than value", `profile.sid sw "S-1-5-21-1234-5"`, false},
		{"sw empty", `profile.sid sw ""`, true},
		{"sw not string", `profile.registered sw "t"`, false},
		{"sw absent", `profile.imei sw "1"`, false},
		{"co", `profile.serialNumber co "XK1"`, true},
		{"co case-insensitive", `profile.serialNumber co "xk1abc"`, true},
		{"co at end", `profile.serialNumber co "DEF"`, true},
		{"co miss", `profile.serialNumber co "XK2"`, false},
		{"co escaped quote", `profile.displayName co "\"Pro\""`, true},
		{"co escaped backslash", `profile.displayName co "\\ 14"`, true},
		{"co empty", `profile.displayName co ""`, true},
		{"gt date", `lastUpdated gt "2024-12-23T00:00:00.000Z"`, true},
		{"gt date later", `lastUpdated gt "2024-12-25T00:00:00.000Z"`, false},
		{"ge equal", `lastUpdated ge "2024-12-24T10:00:00.000Z"`, true},
		{"gt equal", `lastUpdated gt "2024-12-24T10:00:00.000Z"`, false},
		{"lt", `lastUpdated lt "2025-01-01T00:00:00.000Z"`, true},
		{"le equal", `lastUpdated le "2024-12-24T10:00:00.000Z"`, true},
		{"lt string prefix", `status lt "ACTIVEX"`, true},
		{"gt number", `profile.count gt 2`, true},
		{"ge number", `profile.count ge 3`, true},
		{"lt number", `profile.count lt 3`, false},
		{"le number frac", `profile.count le 3.5e0`, true},
		{"lt number against string", `profile.osVersion lt 20`, false},
		{"eq number", `profile.count eq 3`, true},
		{"eq number neg", `profile.count eq -3`, false},
		{"eq true", `profile.registered eq true`, true},
		{"eq TRUE", `profile.registered eq TRUE`, true},
		{"eq false", `profile.secureHardwarePresent eq false`, true},
		{"eq bool vs string", `profile.registered eq "true"`, false},
		{"eq null absent", `profile.imei eq null`, true},
		{"eq null nil", `profile.meid eq null`, true},
		{"eq null present", `status eq null`, false},
		{"ne null", `status ne null`, true},
		{"pr", `profile.sid pr`, true},
		{"pr false", `profile.secureHardwarePresent pr`, true},
		{"pr absent", `profile.imei pr`, false},
		{"pr nil", `profile.meid pr`, false},
		{"PR", `profile.sid PR`, true},
		{"and", `profile.displayName sw "Eng-dev" and status eq "ACTIVE"`, true},
		{"and false", `profile.displayName sw "Eng-dev" and status eq "SUSPENDED"`, false},
		{"or", `status eq "SUSPENDED" or profile.platform eq "MACOS"`, true},
		{"or false", `status eq "SUSPENDED" or profile.platform eq "IOS"`, false},
		{"AND OR keywords", `status eq "X" OR status eq "ACTIVE" AND profile.sid pr`, true},
		// and binds tighter: true or (false and false) = true.
		{"precedence and over or", `status eq "ACTIVE" or status eq "X" and status eq "Y"`, true},
		// (true or false) and false = false.
		{"parentheses", `(status eq "ACTIVE" or status eq "X") and status eq "Y"`, false},
		{"not", `not (status eq "ACTIVE")`, false},
		{"not without parens", `not status eq "SUSPENDED"`, true},
		// not binds tighter than and: (not true) and true = false.
		{"precedence not over and", `not status eq "ACTIVE" and profile.sid pr`, false},
		{"not not", `NOT not (status eq "ACTIVE")`, true},
		{"nested parens", `((((status eq "ACTIVE"))))`, true},
		{"whitespace", " \tstatus\neq\r\"ACTIVE\"  ", true},
		{"unicode escape", `profile.displayName sw "\u0045ng"`, true},
		{"unicode fold", `profile.model eq "STRASSE"`, false},
		{"unicode fold simple", `profile.model eq "STRAßE"`, true},
		{"unknown attribute", `profile.nothing eq "x"`, false},
		{"no space before string", `status eq"ACTIVE"`, true},
	}
	get := getAttr(scimDevice)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := parseFilter(tt.filter)
			if err != nil {
				t.Fatalf("parseFilter(%q) error: %v", tt.filter, err)
			}
			if got := e.match(get); got != tt.want {
				t.Errorf("parseFilter(%q).match = %v; want %v (parsed as %v)", tt.filter, got, tt.want, e)
			}
		})
	}
}

func TestParseFilterErrors(t *testing.T) {
	tests := []struct {
		name   string
		filter string
		want   string // substring of the error
	}{
		{"empty", ``, "expected attribute"},
		{"blank", `   `, "expected attribute"},
		{"attribute only", `status`, "expected operator"},
		{"missing value", `status eq`, "expected value"},
		{"unknown operator", `status is "ACTIVE"`, "unknown operator"},
		{"ew in device search", `profile.displayName ew "0001"`, "unknown operator"},
		{"bare word value", `status eq ACTIVE`, "expected value"},
		{"unterminated string", `status eq "ACTIVE`, "unterminated string"},
		{"trailing backslash", `status eq "ACTIVE\`, "unterminated string"},
		{"bad escape", `status eq "A\qB"`, "invalid escape"},
		{"bad unicode escape", `status eq "\u12G4"`, `invalid \u escape`},
		{"control character", "status eq \"A\x01\"", "control character"},
		{"single quotes", `status eq 'ACTIVE'`, "unexpected character"},
		{"co on status", `status co "ACT"`, `"co" is not supported on "status"`},
		{"co on model", `profile.model co "Mac"`, `"co" is not supported`},
		{"co with number", `profile.displayName co 1`, "needs a string value"},
		{"sw with bool", `profile.displayName sw true`, "needs a string value"},
		{"gt with bool", `profile.registered gt true`, "needs a string or number value"},
		{"lt with null", `lastUpdated lt null`, "needs a string or number value"},
		{"unbalanced open", `(status eq "ACTIVE"`, `expected ")"`},
		{"unbalanced close", `status eq "ACTIVE")`, "unexpected"},
		{"empty parens", `()`, "expected attribute"},
		{"dangling and", `status eq "ACTIVE" and`, "expected attribute"},
		{"dangling or", `status eq "ACTIVE" or`, "expected attribute"},
		{"leading and", `and status eq "A"`, "unknown operator"},
		{"missing logical operator", `status eq "A" status eq "B"`, "unexpected"},
		{"not alone", `not`, "expected attribute"},
		{"pr with value", `status pr "x"`, "unexpected"},
		{"bad number", `profile.count eq 01`, "invalid number"},
		{"number with letters", `profile.count eq 12abc`, "invalid number"},
		{"minus alone", `profile.count eq -`, "invalid number"},
		{"number overflow", `profile.count eq 1e999`, "invalid number"},
		{"number as attribute", `1 eq 1`, "expected attribute"},
		{"attribute trailing dot", `profile. eq "x"`, "invalid attribute name"},
		{"attribute double dot", `profile..sid eq "x"`, "invalid attribute name"},
		{"attribute digit segment", `profile.1x eq "x"`, "invalid attribute name"},
		{"too deep", strings.Repeat("(", 100) + `status pr` + strings.Repeat(")", 100), "nested too deeply"},
		{"not too deep", strings.Repeat("not ", 100) + `status pr`, "nested too deeply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := parseFilter(tt.filter)
			if err == nil {
				t.Fatalf("parseFilter(%q) = %v; want error containing %q", tt.filter, e, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parseFilter(%q) error = %q; want it to contain %q", tt.filter, err, tt.want)
			}
			if !errors.Is(err, errFilter) {
				t.Errorf("parseFilter(%q) error %v does not wrap errFilter", tt.filter, err)
			}
			var fe *filterError
			if !errors.As(err, &fe) || fe.Offset < 0 || fe.Offset > len(tt.filter) {
				t.Errorf("parseFilter(%q) error %#v; want *filterError with offset in [0,%d]", tt.filter, err, len(tt.filter))
			}
		})
	}
}

func TestFilterString(t *testing.T) {
	tests := []struct {
		name, filter, want string
	}{
		{"comparison", `status EQ "ACTIVE"`, `status eq "ACTIVE"`},
		{"escapes", `profile.displayName eq "a\"b\\c\/d\n\u00e9"`, "profile.displayName eq \"a\\\"b\\\\c/d\\u000aé\""},
		{"literals", `a eq TRUE or b ne False or c eq NULL`, `a eq true or b ne false or c eq null`},
		{"number", `a gt 1.50E+2`, `a gt 150`},
		{"present", `a Pr`, `a pr`},
		{"precedence kept", `(a pr or b pr) and c pr`, `(a pr or b pr) and c pr`},
		{"flatten", `a pr and (b pr and (c pr))`, `a pr and b pr and c pr`},
		{"redundant parens", `(a pr and b pr) or c pr`, `a pr and b pr or c pr`},
		{"not", `not a pr and b pr`, `not (a pr) and b pr`},
		{"not group", `not (a pr or b pr)`, `not (a pr or b pr)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := parseFilter(tt.filter)
			if err != nil {
				t.Fatalf("parseFilter(%q) error: %v", tt.filter, err)
			}
			if got := fmt.Sprint(e); got != tt.want {
				t.Errorf("String() = %s; want %s", got, tt.want)
			}
		})
	}
}

// FuzzParseFilter checks that parsing never panics, that a parsed filter
// prints to a filter that parses to the same expression, and that both
// evaluate alike. Seeds live in testdata/fuzz/FuzzParseFilter.
func FuzzParseFilter(f *testing.F) {
	get := getAttr(scimDevice)
	f.Fuzz(func(t *testing.T, s string) {
		e, err := parseFilter(s)
		if err != nil {
			if e != nil {
				t.Fatalf("parseFilter(%q) returned both %v and error %v", s, e, err)
			}
			return
		}
		printed := fmt.Sprint(e)
		e2, err := parseFilter(printed)
		if err != nil {
			t.Fatalf("parseFilter(%q) printed as %q, which does not parse: %v", s, printed, err)
		}
		if again := fmt.Sprint(e2); again != printed {
			t.Fatalf("parseFilter(%q) printed as %q, reparsed and printed as %q", s, printed, again)
		}
		if got, want := e2.match(get), e.match(get); got != want {
			t.Fatalf("filter %q matches %v; reprinted %q matches %v", s, want, printed, got)
		}
	})
}

func BenchmarkFilterMatch(b *testing.B) {
	e, err := parseFilter(`profile.displayName sw "eng-dev" and (status eq "ACTIVE" or lastUpdated gt "2024-12-23T00:00:00.000Z") and not (profile.serialNumber co "zzz")`)
	if err != nil {
		b.Fatal(err)
	}
	get := getAttr(scimDevice)
	for b.Loop() {
		e.match(get)
	}
}

func BenchmarkParseFilter(b *testing.B) {
	for b.Loop() {
		if _, err := parseFilter(`profile.displayName sw "Eng-dev" and status eq "ACTIVE" or lastUpdated gt "2024-12-23T00:00:00.000Z"`); err != nil {
			b.Fatal(err)
		}
	}
}
