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
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/time/rate"
)

const fuzzSecret = "fuzz-user-secret"

// cannedClient answers every request with one response, so that the fuzzers
// drive the client's real decoding path without a network.
func cannedClient(t testing.TB, status int, header http.Header, body []byte) *Client {
	transport := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(strings.NewReader(string(body))), Request: r}, nil
	})
	c, err := New(Options{
		Endpoint: "http://fuzz.invalid/elements/api-v2", UserSecret: fuzzSecret, OrganizationSecret: "fuzz-org-secret",
		HTTPClient: &http.Client{Transport: transport}, Limiter: rate.NewLimiter(rate.Inf, 1),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func FuzzDecodeInstance(f *testing.F) {
	f.Add([]byte(`{"id":12345,"name":"Test","token":"dsPr6AheKIS8pt7rp8E81bSRINFgeEkx9Ftr+7t","element":{"id":168,"key":"hubspotcrm","active":true},"provisionInteractions":[],"valid":true,"disabled":false,"maxCacheSize":0,"cacheTimeToLive":0,"cachingEnabled":false,"tags":["a"],"configuration":{"oauth.api.secret":"********"}}`))
	f.Add([]byte(`[{"id":1},{"id":2,"configuration":{"a":"b"}}]`))
	f.Add([]byte(`{"id":"12345"}`))
	f.Add([]byte(`{"id":1e400}`))
	f.Add([]byte(`{"id":1,"configuration":{"a":1}}`))
	f.Add([]byte(`{"id":1,"tags":[{"id":1,"name":"a"},"b",null,7],"configuration":{"a":true,"b":{"c":[1]},"c":null},"user":{"id":2},"createdDate":"2017-08-07T18:46:38Z"}`))
	f.Add([]byte(`{"id":1,"tags":{"name":"x"},"configuration":"none"}`))
	f.Add([]byte(`{"id":1,"provisionInteractions":[{"x":[1,2,{"y":null}]}]}`))
	f.Add([]byte(`{"element":"hubspotcrm","oauthUrl":"https://app.hubspot.com/oauth/authorize?client_id=x"}`))
	f.Add([]byte(`null`))
	f.Add([]byte(``))
	f.Add([]byte(`<html>oops</html>`))
	f.Add([]byte(`{"id": 7, "name": "crm", "tok`))
	f.Add([]byte("\xff\xfe{\"id\":1}"))
	f.Fuzz(func(t *testing.T, body []byte) {
		header := http.Header{"Content-Type": {"application/json"}, NextPageHeader: {""}}
		c := cannedClient(t, http.StatusOK, header, body)
		ctx := context.Background()

		instance, err := c.GetInstance(ctx, 1)
		checkOutcome(t, err, instance != nil)
		if err == nil && instance.ID == 0 {
			t.Error("an instance without an id was accepted")
		}
		page, err := c.ListInstances(ctx, nil)
		checkOutcome(t, err, true)
		_ = page
		oauth, err := c.OAuthURL(ctx, OAuthURLRequest{APIKey: "id", APISecret: "fuzz-client-secret", CallbackURL: "https://x"})
		checkOutcome(t, err, oauth != nil)
		if instance != nil {
			_ = instance.String()
		}
	})
}

func checkOutcome(t *testing.T, err error, gotValue bool) {
	t.Helper()
	if err == nil {
		if !gotValue {
			t.Error("no error and no value")
		}
		return
	}
	var decodeErr *DecodeError
	if !errors.As(err, &decodeErr) {
		t.Errorf("a 200 with a bad body gave %T, want *DecodeError: %v", err, err)
	}
	if !strings.Contains(err.Error(), "200 OK") {
		t.Errorf("error does not name the status: %v", err)
	}
	if IsRetryable(err) || IsNotFound(err) || IsInvalidRequest(err) || IsUnauthorized(err) {
		t.Errorf("a decode error was classified as a status: %v", err)
	}
}

func FuzzDecodeError(f *testing.F) {
	f.Add(400, "application/json", "", []byte(`{"requestId":"abc","message":"missing required configuration: oauth.api.secret","providerMessage":"BAD_AUTH_CODE"}`))
	f.Add(401, "application/json", "", []byte(`{"message":"Invalid Organization or User secret, or invalid Element token provided."}`))
	f.Add(404, "application/json;charset=UTF-8", "", []byte(`{"message":"No instance found with ID 123"}`))
	f.Add(429, "application/json", "7", []byte(`{"message":"slow down"}`))
	f.Add(429, "", "Fri, 01 May 2026 12:00:30 GMT", []byte(``))
	f.Add(503, "text/html", "-5", []byte(`<html><body>Service Unavailable</body></html>`))
	f.Add(502, "application/json", "", []byte(`{"message":{"nested":[1,2]},"providerMessage":{"status":"error"},"requestId":42}`))
	f.Add(500, "application/json", "", []byte(`["not","an","object"]`))
	f.Add(500, "bogus/;;", "", []byte(`{"message": "trunc`))
	f.Add(418, "application/json", "", []byte(`{"message":"`+fuzzSecret+`"}`))
	f.Add(302, "", "", []byte(`null`))
	f.Add(404, "text/html", "", []byte(`<html><body><h1>404 Not Found</h1></body></html>`))
	f.Add(404, "", "", []byte(``))
	f.Fuzz(func(t *testing.T, status int, contentType, retryAfter string, body []byte) {
		if status < 100 || status > 999 || (status >= 200 && status <= 299) {
			t.Skip()
		}
		header := http.Header{"Content-Type": {contentType}, "Retry-After": {retryAfter}}
		c := cannedClient(t, status, header, body)
		_, err := c.GetInstance(context.Background(), 1)
		var apiErr *APIError
		if !errors.As(err, &apiErr) {
			t.Fatalf("status %d gave %T: %v", status, err, err)
		}
		if apiErr.StatusCode != status {
			t.Errorf("StatusCode = %d, want %d", apiErr.StatusCode, status)
		}
		message := apiErr.Error()
		if !strings.Contains(message, "get instance") {
			t.Errorf("error does not name the operation: %q", message)
		}
		if strings.Contains(message, fuzzSecret) {
			t.Errorf("error shows the user secret: %q", message)
		}
		for _, field := range []string{apiErr.Message, apiErr.ProviderMessage, apiErr.RequestID} {
			if len(field) > maxMessageBytes+len("…") {
				t.Errorf("a message field kept %d bytes", len(field))
			}
			if utf8.ValidString(string(body)) && !utf8.ValidString(field) {
				t.Errorf("truncation split a rune: %q", field)
			}
		}
		delay, ok := RetryAfter(err)
		if delay < 0 || delay > MaxRetryAfter || (ok && status != 429 && status != 503) {
			t.Errorf("RetryAfter = %v, %t for status %d", delay, ok, status)
		}
		if IsNotFound(err) && (status != 404 || !apiErr.PlatformError) {
			t.Errorf("IsNotFound for status %d, PlatformError %t", status, apiErr.PlatformError)
		}
		if status == 404 && IsNotFound(err) == IsRetryable(err) {
			t.Errorf("a 404 must be either gone or retryable: IsNotFound=%t IsRetryable=%t", IsNotFound(err), IsRetryable(err))
		}
		if redirect := status >= 300 && status <= 399; IsRedirect(err) != redirect || (redirect && (IsRetryable(err) || !IsInvalidRequest(err))) {
			t.Errorf("status %d: IsRedirect=%t IsRetryable=%t IsInvalidRequest=%t", status, IsRedirect(err), IsRetryable(err), IsInvalidRequest(err))
		}
	})
}

// FuzzRedirectLocation checks that a redirect's error never shows more of its
// Location than the scheme and host, whatever the Location is.
func FuzzRedirectLocation(f *testing.F) {
	f.Add(307, "https://evil.example/steal?apiSecret="+fuzzSecret)
	f.Add(308, "//evil.example:8443/"+fuzzSecret)
	f.Add(302, "https://"+fuzzSecret+"@evil.example/#"+fuzzSecret)
	f.Add(301, "/relative?code="+fuzzSecret)
	f.Add(303, "http://[::1]:80/x")
	f.Add(300, "")
	f.Add(307, "::not a url")
	f.Add(302, "https://evil.example/%zz?x=1")
	f.Fuzz(func(t *testing.T, status int, location string) {
		if status < 300 || status > 399 {
			t.Skip()
		}
		c := cannedClient(t, status, http.Header{"Location": {location}}, nil)
		_, err := c.CreateInstance(context.Background(), InstanceRequest{Name: "x"})
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != status {
			t.Fatalf("status %d gave %T: %v", status, err, err)
		}
		if !IsRedirect(err) || IsRetryable(err) || IsNotFound(err) || !IsInvalidRequest(err) {
			t.Errorf("a %d is not classified as a refusal: %v", status, err)
		}
		if strings.Contains(err.Error(), fuzzSecret) {
			t.Errorf("the error shows the user secret: %q", err)
		}
		if origin := apiErr.RedirectOrigin; origin != "" {
			scheme, host, ok := strings.Cut(origin, "://")
			if !ok || scheme == "" || host == "" || strings.ContainsAny(host, "/?#@") {
				t.Errorf("RedirectOrigin %q is more than a scheme and a host", origin)
			}
		}
		if len(err.Error()) > 2*maxMessageBytes+200 {
			t.Errorf("the error is %d bytes long", len(err.Error()))
		}
	})
}
