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

package cloudelements_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	ce "github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
)

// Secrets long and distinctive enough that finding one in a log or an error
// cannot be a coincidence.
const (
	userSecret         = "user-secret-5f2a9d"
	organizationSecret = "org-secret-9c1e77"
	clientID           = "123456789d-1234-12e4-bda9-12345b8bf20"
	clientSecret       = "client-secret-abcd1234"
	hubSpotAPIKey      = "hubspot-apikey-e6f0b2"
	portalID           = "6543210"
	accessToken        = "access-token-0a1b2c3d"
	refreshToken       = "refresh-token-4e5f6a7b"
	callbackURL        = "https://www.mycoolapp.com/auth"
)

var allSecrets = []string{userSecret, organizationSecret, clientSecret, hubSpotAPIKey, accessToken, refreshToken}

// clock is a settable Now for code expiry.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// syncBuffer is written by the simulator's handlers while a test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type env struct {
	sim    *simulator.Simulator
	server *httptest.Server
	client *ce.Client
	clock  *clock
	log    *syncBuffer
	// headers records the request headers the simulator saw, by path.
	headersMu sync.Mutex
	headers   map[string]http.Header
}

// newEnv starts a simulator on a real port and a client for it without a
// rate limit; edit changes the client's options.
func newEnv(t *testing.T, edit ...func(*ce.Options)) *env {
	t.Helper()
	e := &env{
		clock:   &clock{now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)},
		log:     &syncBuffer{},
		headers: map[string]http.Header{},
	}
	e.sim = simulator.New(simulator.Options{
		UserSecret:         userSecret,
		OrganizationSecret: organizationSecret,
		Seed:               42,
		Now:                e.clock.Now,
		Logger:             log.New(e.log, "", 0),
	})
	e.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.headersMu.Lock()
		e.headers[r.URL.Path] = r.Header.Clone()
		e.headersMu.Unlock()
		e.sim.ServeHTTP(w, r)
	}))
	t.Cleanup(e.server.Close)
	opts := ce.Options{
		Endpoint:           e.server.URL + simulator.APIPrefix,
		UserSecret:         userSecret,
		OrganizationSecret: organizationSecret,
		Limiter:            rate.NewLimiter(rate.Inf, 1),
	}
	for _, f := range edit {
		f(&opts)
	}
	e.client = newClient(t, opts)
	return e
}

func newClient(t *testing.T, opts ce.Options) *ce.Client {
	t.Helper()
	client, err := ce.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return client
}

func (e *env) header(path string) http.Header {
	e.headersMu.Lock()
	defer e.headersMu.Unlock()
	return e.headers[path]
}

// The seed page's example bodies, verbatim but for the placeholders, which
// fill makes realistic.
const (
	seedOAuth2 = `{
  "element": {
    "key": "hubspotcrm"
  },
  "providerData": {
  	"code": "<CODE_ON_THE_RETURN_URL>"
  },
  "configuration": {
    "oauth.api.key": "<INSERT HUBSPOT_OAUTH_CLIENT_ID>",
    "oauth.api.secret": "<INSERT HUBSPOT_OAUTH_CLIENT_SECRET>",
    "oauth.callback.url": "https://www.mycoolapp.com/auth"
  },
  "tags": [
    "<ADD_YOUR_TAG>"
  ],
  "name": "<INSERT_INSTANCE_NAME>"
}`
	seedLegacy = `{
  "element": {
    "key": "hubspotcrm"
  },
  "providerData": {
    "apikey": "<INSERT HUBSPOT_OAUTH_CLIENT_ID>",
    "access_token": "<ACCESS_TOKEN RETURNED IN OAUTH EXCHANGE>",
    "refresh_token": "<REFRESH_TOKEN RETURNED IN OAUTH EXCHANGE>",
    "expires_in": "<TIME FRAME IN WHICH REFRESH TOKEN EXPIRES (seconds)>"
  },
  "configuration": {
    "oauth.api.key": "<INSERT HUBSPOT_OAUTH_CLIENT_ID>",
    "oauth.api.secret": "<INSERT HUBSPOT_OAUTH_PORTAL_ID>",
    "oauth.callback.url": "www.samplecallbackurl.com",
    "oauth.scope": "contacts-rw+offline"
  },
  "tags": [
    "<Add_Your_Tag>"
  ],
  "name": "<Insert_Instance_Name>"
}`
	seedAPIKey = `{
  "element": {
    "key": "hubspotcrm"
  },
   "configuration": {
       "hubspot.authorization.apikey": "<INSERT_HUBSPOT_CRM_OAUTH_CLIENT_ID>",
       "authentication.type": "apiKey",
       "create.bulk.properties": "<INSERT_TRUE_TO_CREATE_BULK_PROPERTIES_OTHERWISE_FALSE>"
   },
  "tags": [
    "<ADD_YOUR_TAG>"
  ],
  "name": "<INSERT_INSTANCE_NAME>"
}`
)

// seedRequest decodes a seed body through the client's own types, so that
// their JSON tags are checked against the documentation too.
func seedRequest(t *testing.T, seed, code string) ce.InstanceRequest {
	t.Helper()
	filled := strings.NewReplacer(
		"<CODE_ON_THE_RETURN_URL>", code,
		"<INSERT HUBSPOT_OAUTH_CLIENT_ID>", clientID,
		"<INSERT HUBSPOT_OAUTH_CLIENT_SECRET>", clientSecret,
		"<INSERT HUBSPOT_OAUTH_PORTAL_ID>", portalID,
		"<ACCESS_TOKEN RETURNED IN OAUTH EXCHANGE>", accessToken,
		"<REFRESH_TOKEN RETURNED IN OAUTH EXCHANGE>", refreshToken,
		"<TIME FRAME IN WHICH REFRESH TOKEN EXPIRES (seconds)>", "21600",
		"<INSERT_HUBSPOT_CRM_OAUTH_CLIENT_ID>", hubSpotAPIKey,
		"<INSERT_TRUE_TO_CREATE_BULK_PROPERTIES_OTHERWISE_FALSE>", "true",
		"<ADD_YOUR_TAG>", "owner=team-a",
		"<Add_Your_Tag>", "owner=team-a",
		"<INSERT_INSTANCE_NAME>", "crm-prod",
		"<Insert_Instance_Name>", "crm-prod",
	).Replace(seed)
	var req ce.InstanceRequest
	if err := json.Unmarshal([]byte(filled), &req); err != nil {
		t.Fatalf("seed body does not decode into InstanceRequest: %v", err)
	}
	return req
}

func apiKeyRequest(name string, tags ...string) ce.InstanceRequest {
	return ce.InstanceRequest{
		Name: name,
		Tags: tags,
		Configuration: map[string]string{
			ce.ConfigAuthenticationType:   ce.AuthenticationTypeAPIKey,
			ce.ConfigHubSpotAPIKey:        hubSpotAPIKey,
			ce.ConfigCreateBulkProperties: "false",
		},
	}
}

func oauth2Request(code string) ce.InstanceRequest {
	return ce.InstanceRequest{
		Name:         "crm",
		Tags:         []string{"owner=team-a"},
		ProviderData: &ce.ProviderData{Code: code},
		Configuration: map[string]string{
			ce.ConfigOAuthAPIKey:      clientID,
			ce.ConfigOAuthAPISecret:   clientSecret,
			ce.ConfigOAuthCallbackURL: callbackURL,
		},
	}
}

func (e *env) create(t *testing.T, req ce.InstanceRequest) *ce.Instance {
	t.Helper()
	instance, err := e.client.CreateInstance(context.Background(), req)
	if err != nil {
		t.Fatalf("CreateInstance: %v", err)
	}
	return instance
}

func apiError(t *testing.T, err error) *ce.APIError {
	t.Helper()
	var apiErr *ce.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("want *APIError, got %T: %v", err, err)
	}
	return apiErr
}

func assertNoSecrets(t *testing.T, what, text string) {
	t.Helper()
	for _, secret := range allSecrets {
		if strings.Contains(text, secret) {
			t.Errorf("%s leaks a secret (%s…): %s", what, secret[:6], text)
		}
	}
}

// consent follows an oauthUrl like a browser whose user answers at once, and
// returns the query the callback received.
func consent(t *testing.T, oauthURL string) url.Values {
	t.Helper()
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Get(oauthURL)
	if err != nil {
		t.Fatalf("consent page: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("consent page answered %d, want 302", resp.StatusCode)
	}
	location, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatalf("consent redirect: %v", err)
	}
	if got := location.Scheme + "://" + location.Host + location.Path; got != callbackURL {
		t.Fatalf("consent redirected to %s, want the callback %s", got, callbackURL)
	}
	return location.Query()
}
