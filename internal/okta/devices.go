package okta

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Device statuses (OKTA.md §1).
const (
	StatusCreated     = "CREATED"
	StatusActive      = "ACTIVE"
	StatusSuspended   = "SUSPENDED"
	StatusDeactivated = "DEACTIVATED"
)

// Lifecycle actions accepted by Client.Lifecycle.
const (
	ActionActivate   = "activate"
	ActionDeactivate = "deactivate"
	ActionSuspend    = "suspend"
	ActionUnsuspend  = "unsuspend"
)

// Device is an Okta device as the Devices API returns it. Embedded.Users is
// set only when the list was expanded (expand=user or userSummary).
type Device struct {
	ID                  string          `json:"id"`
	Status              string          `json:"status"`
	Created             time.Time       `json:"created"`
	LastUpdated         time.Time       `json:"lastUpdated"`
	Profile             DeviceProfile   `json:"profile"`
	ResourceType        string          `json:"resourceType"`
	ResourceID          string          `json:"resourceId"`
	ResourceAlternateID string          `json:"resourceAlternateId"`
	ResourceDisplayName *DisplayName    `json:"resourceDisplayName"`
	Embedded            *DeviceEmbedded `json:"_embedded"`
}

// DisplayName is a device's resourceDisplayName.
type DisplayName struct {
	Value     string `json:"value"`
	Sensitive bool   `json:"sensitive"`
}

// DeviceEmbedded holds the users of an expanded device.
type DeviceEmbedded struct {
	Users []DeviceUser `json:"users"`
}

// DeviceProfile is a device's profile. Optional booleans are nil when Okta
// did not send them.
type DeviceProfile struct {
	DisplayName           string `json:"displayName"`
	Platform              string `json:"platform"`
	Registered            bool   `json:"registered"`
	Manufacturer          string `json:"manufacturer"`
	Model                 string `json:"model"`
	OSVersion             string `json:"osVersion"`
	SerialNumber          string `json:"serialNumber"`
	IMEI                  string `json:"imei"`
	MEID                  string `json:"meid"`
	UDID                  string `json:"udid"`
	SID                   string `json:"sid"`
	TPMPublicKeyHash      string `json:"tpmPublicKeyHash"`
	SecureHardwarePresent *bool  `json:"secureHardwarePresent"`
	IntegrityJailbreak    *bool  `json:"integrityJailbreak"`
	Managed               *bool  `json:"managed"`
	DiskEncryptionType    string `json:"diskEncryptionType"`
}

// DeviceUser is one user of a device.
type DeviceUser struct {
	Created          string `json:"created"`
	ManagementStatus string `json:"managementStatus"`
	ScreenLockType   string `json:"screenLockType"`
	User             User   `json:"user"`
}

// User is the user of a DeviceUser: a full Okta user, or with
// expand=userSummary only id, realmId and the name and login fields.
// Timestamps are kept as Okta wrote them.
type User struct {
	ID              string      `json:"id"`
	Status          string      `json:"status"`
	RealmID         string      `json:"realmId"`
	Created         string      `json:"created"`
	Activated       string      `json:"activated"`
	StatusChanged   string      `json:"statusChanged"`
	LastLogin       string      `json:"lastLogin"`
	LastUpdated     string      `json:"lastUpdated"`
	PasswordChanged string      `json:"passwordChanged"`
	Profile         UserProfile `json:"profile"`
}

// UserProfile holds the standard profile fields a device card reports.
type UserProfile struct {
	Login       string `json:"login"`
	Email       string `json:"email"`
	FirstName   string `json:"firstName"`
	LastName    string `json:"lastName"`
	DisplayName string `json:"displayName"`
	SecondEmail string `json:"secondEmail"`
	MobilePhone string `json:"mobilePhone"`
}

// ListOptions are the parameters of ListDevices. Search is a SCIM filter,
// Expand "user" or "userSummary", Limit the page size (1–200; 0 means 200).
type ListOptions struct {
	Search string
	Expand string
	Limit  int
}

const devicesPath = "/api/v1/devices"

// ListDevices returns the devices matching opts, fetching one page at a time
// and following each response's Link rel="next" only while it stays on the
// org's origin (a next link elsewhere ends the walk with an error). Devices
// are yielded as each page arrives; a page is decoded in full before any of
// its devices is yielded, so a failed page can be retried without repeats.
// Stop the loop early to fetch no more pages.
func (c *Client) ListDevices(ctx context.Context, opts ListOptions) iter.Seq2[*Device, error] {
	return func(yield func(*Device, error) bool) {
		q := url.Values{}
		limit := opts.Limit
		if limit <= 0 || limit > 200 {
			limit = 200
		}
		q.Set("limit", strconv.Itoa(limit))
		if opts.Search != "" {
			q.Set("search", opts.Search)
		}
		switch opts.Expand {
		case "":
		case "user", "userSummary":
			q.Set("expand", opts.Expand)
		default:
			yield(nil, &RequestError{Field: "expand", Message: fmt.Sprintf("%q is not user or userSummary", opts.Expand)})
			return
		}
		u, err := c.endpoint(devicesPath, q)
		if err != nil {
			yield(nil, err)
			return
		}
		page := make([]*Device, 0, limit)
		for u != nil {
			page = page[:0]
			res, err := c.send(ctx, call{op: "ListDevices", method: http.MethodGet, url: u, retry: true,
				stream: func(r io.Reader) error {
					page = page[:0]
					return decodeArray(r, func(dec *json.Decoder) error {
						d := new(Device)
						if err := dec.Decode(d); err != nil {
							return err
						}
						page = append(page, d)
						return nil
					})
				}})
			if err != nil {
				yield(nil, err)
				return
			}
			next, nerr := c.nextLink(res.header, u)
			for i, d := range page {
				page[i] = nil // the consumer owns d now
				if !yield(d, nil) {
					return
				}
			}
			if nerr != nil {
				yield(nil, nerr)
				return
			}
			u = next
		}
	}
}

// decodeInto is a call's stream that decodes a JSON array into *list,
// emptied first (an attempt retried decodes from the start again).
func decodeInto[T any](list *[]T) func(io.Reader) error {
	return func(r io.Reader) error {
		*list = (*list)[:0]
		return decodeArray(r, func(dec *json.Decoder) error {
			var v T
			if err := dec.Decode(&v); err != nil {
				return err
			}
			*list = append(*list, v)
			return nil
		})
	}
}

// decodeArray streams the elements of one JSON array to each.
func decodeArray(r io.Reader, each func(*json.Decoder) error) error {
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil // a null body: no elements
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("expected a JSON array, got %v", tok)
	}
	for dec.More() {
		if err := each(dec); err != nil {
			return unexpectedEOF(err)
		}
	}
	_, err = dec.Token()
	return unexpectedEOF(err)
}

// unexpectedEOF turns the end of a body that has begun into
// io.ErrUnexpectedEOF: the body broke off, it was not empty.
func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// nextLink returns the rel="next" link of a response, resolved against the
// request URL, or nil on the last page. A next link on another origin is an
// error: following it would send the org's credential elsewhere.
func (c *Client) nextLink(h http.Header, reqURL *url.URL) (*url.URL, error) {
	for _, l := range ParseLink(h.Values("Link")) {
		if !l.HasRel("next") {
			continue
		}
		ref, err := url.Parse(l.Target)
		if err != nil {
			return nil, fmt.Errorf("okta: unusable next link %q: %w", l.Target, err)
		}
		next := reqURL.ResolveReference(ref)
		org, err := c.origin()
		if err != nil {
			return nil, err
		}
		if !sameOrigin(next, org) {
			return nil, fmt.Errorf("okta: next link leaves the org (%s); not following it", next.Redacted())
		}
		if next.String() == reqURL.String() {
			return nil, fmt.Errorf("okta: next link points at the same page (%s); not following it", next.Redacted())
		}
		return next, nil
	}
	return nil, nil
}

// validID checks a device id before it becomes a path segment: Okta ids are
// short and alphanumeric, so anything else (a slash, "..", a query) is
// refused rather than escaped.
func validID(id string) error {
	if id == "" {
		return &RequestError{Field: "deviceId", Message: "is empty"}
	}
	if len(id) > 128 {
		return &RequestError{Field: "deviceId", Message: "is longer than 128 characters"}
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return &RequestError{Field: "deviceId", Message: fmt.Sprintf("%q has characters an Okta id never has", id)}
		}
	}
	return nil
}

// GetDevice returns one device, fresh from Okta (never cached).
func (c *Client) GetDevice(ctx context.Context, id string) (*Device, error) {
	if err := validID(id); err != nil {
		return nil, err
	}
	u, err := c.endpoint(devicesPath+"/"+id, nil)
	if err != nil {
		return nil, err
	}
	d := new(Device)
	_, err = c.send(ctx, call{op: "GetDevice", method: http.MethodGet, url: u, retry: true,
		stream: func(r io.Reader) error {
			*d = Device{} // a retried attempt starts afresh
			return json.NewDecoder(r).Decode(d)
		}})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// ListDeviceUsers returns every user of a device, following next links if
// Okta ever pages them.
func (c *Client) ListDeviceUsers(ctx context.Context, id string) ([]DeviceUser, error) {
	if err := validID(id); err != nil {
		return nil, err
	}
	u, err := c.endpoint(devicesPath+"/"+id+"/users", nil)
	if err != nil {
		return nil, err
	}
	users := []DeviceUser{}
	for u != nil {
		var page []DeviceUser
		res, err := c.send(ctx, call{op: "ListDeviceUsers", method: http.MethodGet, url: u, retry: true,
			stream: decodeInto(&page)})
		if err != nil {
			return nil, err
		}
		users = append(users, page...)
		if u, err = c.nextLink(res.header, u); err != nil {
			return nil, err
		}
	}
	return users, nil
}

// Lifecycle runs a lifecycle action (ActionActivate, ...) on a device: a
// bodiless POST with Content-Length: 0. Okta answers 204, also when the
// device is already in the action's target state; lifecycle calls are
// idempotent in Okta, so they are retried on 5xx and network errors.
func (c *Client) Lifecycle(ctx context.Context, id, action string) error {
	if err := validID(id); err != nil {
		return err
	}
	switch action {
	case ActionActivate, ActionDeactivate, ActionSuspend, ActionUnsuspend:
	default:
		return &RequestError{Field: "action", Message: fmt.Sprintf("%q is not a device lifecycle action", action)}
	}
	u, err := c.endpoint(devicesPath+"/"+id+"/lifecycle/"+action, nil)
	if err != nil {
		return err
	}
	_, err = c.send(ctx, call{op: "Lifecycle." + action, method: http.MethodPost, url: u, retry: true, noContent: true})
	return err
}

// DeleteDevice deletes a device (Okta allows it only when DEACTIVATED). It is
// never retried on 5xx or network errors: the first attempt may have worked.
func (c *Client) DeleteDevice(ctx context.Context, id string) error {
	if err := validID(id); err != nil {
		return err
	}
	u, err := c.endpoint(devicesPath+"/"+id, nil)
	if err != nil {
		return err
	}
	_, err = c.send(ctx, call{op: "DeleteDevice", method: http.MethodDelete, url: u, noContent: true})
	return err
}
