/*
Copyright 2026 The hubspot-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package cloudelements

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/hubspot-operator/hubspot-operator/internal/keyedrate"
)

func TestNewDefaults(t *testing.T) {
	c, err := New(Options{Endpoint: "https://eu.example.com/elements/api-v2/", UserSecret: "u-defaults", OrganizationSecret: "o"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Endpoint() != "https://eu.example.com/elements/api-v2" {
		t.Errorf("Endpoint() = %q, want the trailing slash dropped", c.Endpoint())
	}
	if c.httpClient.Timeout != 30*time.Second {
		t.Errorf("default timeout = %v", c.httpClient.Timeout)
	}
	if c.limiter().Limit() != 10 || c.limiter().Burst() != 20 {
		t.Errorf("default limiter = %v/s burst %d", c.limiter().Limit(), c.limiter().Burst())
	}
	if c.userAgent != "hubspot-operator/dev" {
		t.Errorf("default User-Agent = %q", c.userAgent)
	}

	if c.httpClient.CheckRedirect == nil {
		t.Error("the default http.Client follows redirects")
	}

	custom := rate.NewLimiter(1, 1)
	transport := &http.Transport{}
	caller := &http.Client{Transport: transport, Timeout: 7 * time.Second}
	c, err = New(Options{Endpoint: "http://127.0.0.1:8090/elements/api-v2", Limiter: custom, UserAgent: "x/1", HTTPClient: caller})
	if err != nil {
		t.Fatal(err)
	}
	if c.limiter() != custom || c.userAgent != "x/1" {
		t.Error("explicit options were not kept")
	}
	// The caller's client is copied, not used or changed: only the copy
	// refuses redirects.
	if c.httpClient == caller || c.httpClient.Transport != (hideLocation{next: transport}) || c.httpClient.Timeout != 7*time.Second {
		t.Errorf("the caller's http.Client was not copied with its transport and timeout")
	}
	if caller.CheckRedirect != nil {
		t.Error("New changed the caller's http.Client")
	}
	if err := c.httpClient.CheckRedirect(nil, nil); !errors.Is(err, http.ErrUseLastResponse) {
		t.Errorf("CheckRedirect = %v, want http.ErrUseLastResponse", err)
	}

	same, _ := New(Options{Endpoint: "https://eu.example.com/elements/api-v2", UserSecret: "u-defaults", OrganizationSecret: "o", QPS: 1})
	other, _ := New(Options{Endpoint: "https://eu.example.com/elements/api-v2", UserSecret: "u-other", OrganizationSecret: "o"})
	first, _ := New(Options{Endpoint: "https://eu.example.com/elements/api-v2", UserSecret: "u-defaults", OrganizationSecret: "o"})
	if same.limiter() != first.limiter() || other.limiter() == first.limiter() {
		t.Error("limiters must be shared per endpoint and account, and only so")
	}
	if same.limiter().Limit() != 10 {
		t.Error("the first client for an account fixes the shared limiter's rate")
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	cases := map[string]struct {
		opts Options
		want string
	}{
		"unparsable":     {opts: Options{Endpoint: "http://[::1"}, want: "does not parse"},
		"no scheme":      {opts: Options{Endpoint: "api.cloud-elements.com/elements/api-v2"}, want: "must use http or https"},
		"ftp":            {opts: Options{Endpoint: "ftp://api.cloud-elements.com"}, want: "must use http or https"},
		"no host":        {opts: Options{Endpoint: "https:///elements/api-v2"}, want: "has no host"},
		"credentials":    {opts: Options{Endpoint: "https://user:hunter22@api.example.com"}, want: "must not carry credentials"},
		"query":          {opts: Options{Endpoint: "https://api.example.com/x?a=b"}, want: "must not have a query"},
		"fragment":       {opts: Options{Endpoint: "https://api.example.com/x#f"}, want: "must not have a fragment"},
		"negative QPS":   {opts: Options{QPS: -1}, want: "QPS must not be negative"},
		"negative burst": {opts: Options{Burst: -1}, want: "Burst must not be negative"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := New(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error saying %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter22") {
				t.Errorf("the error shows the endpoint's password: %v", err)
			}
		})
	}
}

func TestAPIErrorMessage(t *testing.T) {
	err := &APIError{StatusCode: 400, Operation: "create instance", Message: "missing required configuration: oauth.api.secret", ProviderMessage: "BAD_AUTH_CODE", RequestID: "abc"}
	want := "cloud elements create instance: 400 Bad Request: missing required configuration: oauth.api.secret (provider: BAD_AUTH_CODE) [request abc]"
	if err.Error() != want {
		t.Errorf("Error() = %q\nwant      %q", err.Error(), want)
	}
	if got := (&APIError{StatusCode: 599}).Error(); got != "cloud elements: 599" {
		t.Errorf("bare Error() = %q", got)
	}
	if _, ok := RetryAfter(&APIError{StatusCode: 429, RetryAfter: 5 * time.Second}); !ok {
		t.Error("a hand-built APIError with RetryAfter must report it")
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	cases := map[string]struct {
		value string
		want  time.Duration
		ok    bool
	}{
		"absent":       {value: "", ok: false},
		"seconds":      {value: "120", want: 2 * time.Minute, ok: true},
		"zero":         {value: "0", want: 0, ok: true},
		"padded":       {value: " 3 ", want: 3 * time.Second, ok: true},
		"negative":     {value: "-1", ok: false},
		"an hour":      {value: "3600", want: time.Hour, ok: true},
		"over an hour": {value: "3601", want: MaxRetryAfter, ok: true},
		"a day":        {value: "86400", want: MaxRetryAfter, ok: true},
		"huge":         {value: "99999999999999999", want: MaxRetryAfter, ok: true},
		"IMF date":     {value: "Fri, 01 May 2026 12:00:30 GMT", want: 30 * time.Second, ok: true},
		"RFC 850 date": {value: "Friday, 01-May-26 12:01:00 GMT", want: time.Minute, ok: true},
		"asctime date": {value: "Fri May  1 12:00:10 2026", want: 10 * time.Second, ok: true},
		"past date":    {value: "Fri, 01 May 2026 11:00:00 GMT", want: 0, ok: true},
		"next day":     {value: "Sat, 02 May 2026 12:00:00 GMT", want: MaxRetryAfter, ok: true},
		"far date":     {value: "Fri, 01 May 2099 11:00:00 GMT", want: MaxRetryAfter, ok: true},
		"garbage":      {value: "soon", ok: false},
		"fraction":     {value: "1.5", ok: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := parseRetryAfter(tc.value, now)
			if got != tc.want || ok != tc.ok {
				t.Errorf("parseRetryAfter(%q) = %v, %t; want %v, %t", tc.value, got, ok, tc.want, tc.ok)
			}
		})
	}
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestIsRetryable(t *testing.T) {
	refused := &url.Error{Op: "Get", URL: "http://x", Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	cases := map[string]struct {
		err  error
		want bool
	}{
		"nil":                      {err: nil, want: false},
		"plain":                    {err: errors.New("boom"), want: false},
		"429":                      {err: &APIError{StatusCode: 429}, want: true},
		"500":                      {err: &APIError{StatusCode: 500}, want: true},
		"501":                      {err: &APIError{StatusCode: 501}, want: true},
		"400":                      {err: &APIError{StatusCode: 400}, want: false},
		"platform 404 wrapped":     {err: fmt.Errorf("reconcile: %w", &APIError{StatusCode: 404, PlatformError: true}), want: false},
		"proxy 404":                {err: &APIError{StatusCode: 404}, want: true},
		"redirect":                 {err: &APIError{StatusCode: 307}, want: false},
		"decode error":             {err: &DecodeError{StatusCode: 200, Err: errEmptyBody}, want: false},
		"connection refused":       {err: refused, want: true},
		"bare ECONNRESET":          {err: fmt.Errorf("read: %w", syscall.ECONNRESET), want: true},
		"unexpected EOF":           {err: &url.Error{Op: "Get", URL: "http://x", Err: io.ErrUnexpectedEOF}, want: true},
		"EOF":                      {err: &url.Error{Op: "Get", URL: "http://x", Err: io.EOF}, want: true},
		"net timeout":              {err: &url.Error{Op: "Get", URL: "http://x", Err: timeoutError{}}, want: true},
		"deadline":                 {err: &url.Error{Op: "Get", URL: "http://x", Err: context.DeadlineExceeded}, want: true},
		"cancelled":                {err: &url.Error{Op: "Get", URL: "http://x", Err: context.Canceled}, want: false},
		"cancelled while limiting": {err: fmt.Errorf("x: %w: %w", ErrClientRateLimited, context.Canceled), want: false},
		"client-side rate limit":   {err: fmt.Errorf("x: %w: %w", ErrClientRateLimited, errors.New("would exceed deadline")), want: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := IsRetryable(tc.err); got != tc.want {
				t.Errorf("IsRetryable(%v) = %t, want %t", tc.err, got, tc.want)
			}
		})
	}
}

func TestIsSecretConfigKey(t *testing.T) {
	secret := []string{ConfigOAuthAPISecret, ConfigHubSpotAPIKey, ConfigEventSignatureKey, ConfigOAuthUserRefreshToken,
		"oauth.user.token", "some.password", "Other.APIKEY", "client_secret"}
	public := []string{ConfigOAuthAPIKey, ConfigOAuthCallbackURL, ConfigOAuthScope, ConfigAuthenticationType, ConfigCreateBulkProperties,
		ConfigEventsEnabled, ConfigEventVendorType, ConfigEventNotificationType, ConfigEventCallbackURL,
		ConfigEventPollerRefreshInterval, ConfigEventObjects, ConfigFilterResponseNulls}
	for _, key := range secret {
		if !IsSecretConfigKey(key) {
			t.Errorf("%s should be secret", key)
		}
	}
	for _, key := range public {
		if IsSecretConfigKey(key) {
			t.Errorf("%s should not be secret", key)
		}
	}
	redacted := RedactConfiguration(map[string]string{ConfigOAuthAPISecret: "s3cr3t", ConfigOAuthAPIKey: "id", ConfigHubSpotAPIKey: ""})
	if redacted[ConfigOAuthAPISecret] != MaskedValue || redacted[ConfigOAuthAPIKey] != "id" || redacted[ConfigHubSpotAPIKey] != "" {
		t.Errorf("RedactConfiguration = %v", redacted)
	}
}

func TestScopesAndQueryEncoding(t *testing.T) {
	if got := joinScopes([]string{"contacts", " timeline  files ", ""}); got != "contacts timeline files" {
		t.Errorf("joinScopes = %q", got)
	}
	query := url.Values{"scope": {"contacts-rw offline"}, "literal": {"a+b"}}
	if got := encodeQuery(query); got != "literal=a%2Bb&scope=contacts-rw%20offline" {
		t.Errorf("encodeQuery = %q", got)
	}
}

func TestTruncate(t *testing.T) {
	long := strings.Repeat("é", maxMessageBytes)
	got := truncate(long)
	if len(got) > maxMessageBytes+len("…") || !strings.HasSuffix(got, "…") || strings.ContainsRune(got, '\uFFFD') {
		t.Errorf("truncate kept %d bytes or split a rune", len(got))
	}
}

// A tenant who rewrites their credentials in a loop makes a new account each
// time: the shared limiters of accounts no longer used are forgotten.
func TestRotatedCredentialsLeaveNoLimiterBehind(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	saved := sharedLimiters
	sharedLimiters = keyedrate.New(keyedrate.WithIdle(time.Minute), keyedrate.WithClock(func() time.Time { return now }))
	t.Cleanup(func() { sharedLimiters = saved })
	largest := 0
	for i := range 1000 {
		c, err := New(Options{Endpoint: "https://eu.example.com/elements/api-v2", UserSecret: fmt.Sprintf("rotated-%d", i), OrganizationSecret: "o"})
		if err != nil {
			t.Fatal(err)
		}
		c.limiter().AllowN(now, DefaultBurst)
		largest = max(largest, sharedLimiters.Len())
		now = now.Add(5 * time.Second)
	}
	if largest > 25 {
		t.Errorf("after 1,000 rotations of the credentials, %d shared limiters were held at once; want at most 25 (two idle minutes of them)", largest)
	}
}
