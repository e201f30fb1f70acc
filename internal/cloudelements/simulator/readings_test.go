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

package simulator_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	ce "github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
)

const (
	oauthUserToken = "oauth.user.token"
	portalID       = "4711"
	ownerTagK8s    = "k8s:team-a/crm/6d1f0c3e-uid"
)

// served runs a simulator behind a real HTTP server and a real client, as
// the operator meets it.
type served struct {
	sim    *simulator.Simulator
	client *ce.Client
	server *httptest.Server
}

func serve(t *testing.T, opts simulator.Options) served {
	t.Helper()
	sim := newSimulator(t, opts)
	server := httptest.NewServer(sim)
	t.Cleanup(server.Close)
	client, err := ce.New(ce.Options{Endpoint: server.URL + simulator.APIPrefix, UserSecret: userSecret, OrganizationSecret: organizationSecret, QPS: 1e6, Burst: 1e6})
	if err != nil {
		t.Fatal(err)
	}
	return served{sim: sim, client: client, server: server}
}

// raw sends one request over the connection, with the platform header
// unless req.anonymous, and decodes the JSON answer.
func (s served) raw(t *testing.T, req request) response {
	t.Helper()
	var body io.Reader
	if req.body != "" {
		body = strings.NewReader(req.body)
	}
	r, err := http.NewRequest(req.method, s.server.URL+req.target, body)
	if err != nil {
		t.Fatal(err)
	}
	if !req.anonymous {
		r.Header.Set("Authorization", authorization)
	}
	if req.body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	for key, value := range req.header {
		r.Header.Set(key, value)
	}
	httpResp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = httpResp.Body.Close() }()
	raw, err := io.ReadAll(httpResp.Body)
	if err != nil {
		t.Fatal(err)
	}
	resp := response{status: httpResp.StatusCode, header: httpResp.Header, raw: string(raw)}
	target := &resp.body
	if strings.HasPrefix(resp.raw, "[") {
		target = nil
		if err := json.Unmarshal(raw, &resp.list); err != nil {
			t.Fatalf("%s %s answered a non-JSON list: %q", req.method, req.target, resp.raw)
		}
	}
	if target != nil && resp.raw != "" {
		if err := json.Unmarshal(raw, target); err != nil {
			t.Fatalf("%s %s answered non-JSON: %q", req.method, req.target, resp.raw)
		}
	}
	return resp
}

func oauth2Request(code string) ce.InstanceRequest {
	return ce.InstanceRequest{
		Name:         "crm",
		Tags:         []string{ownerTagK8s},
		ProviderData: &ce.ProviderData{Code: code},
		Configuration: map[string]string{
			ce.ConfigAuthenticationType:  ce.AuthenticationTypeOAuth2,
			ce.ConfigOAuthAPIKey:         clientID,
			ce.ConfigOAuthAPISecret:      clientSecret,
			ce.ConfigOAuthCallbackURL:    "https://app.example/cb",
			ce.ConfigOAuthScope:          "contacts timeline",
			ce.ConfigFilterResponseNulls: "true",
		},
	}
}

func legacyRequest() ce.InstanceRequest {
	return ce.InstanceRequest{
		Name: "legacy",
		ProviderData: &ce.ProviderData{
			APIKey: clientID, AccessToken: "legacy-access-token", RefreshToken: "legacy-refresh-token", ExpiresIn: "21600",
		},
		Configuration: map[string]string{
			ce.ConfigOAuthAPIKey:      clientID,
			ce.ConfigOAuthAPISecret:   portalID,
			ce.ConfigOAuthCallbackURL: "https://app.example/cb",
			ce.ConfigOAuthScope:       "contacts-rw+offline",
		},
	}
}

func externalRequest() ce.InstanceRequest {
	return ce.InstanceRequest{
		Name:                   "external",
		ExternalAuthentication: ce.ExternalAuthenticationInitial,
		Configuration: map[string]string{
			ce.ConfigOAuthAPIKey: clientID, ce.ConfigOAuthAPISecret: clientSecret, ce.ConfigOAuthUserRefreshToken: "given-refresh-token",
		},
	}
}

func apiKeyRequest() ce.InstanceRequest {
	return ce.InstanceRequest{
		Name: "api-key",
		Tags: []string{ownerTagK8s},
		Configuration: map[string]string{
			ce.ConfigAuthenticationType:   ce.AuthenticationTypeAPIKey,
			ce.ConfigHubSpotAPIKey:        hubSpotAPIKey,
			ce.ConfigCreateBulkProperties: "false",
		},
	}
}

// withoutTokens is a full body as the operator sends it: everything it
// owns, and none of the keys the platform added.
func withoutTokens(req ce.InstanceRequest) ce.InstanceRequest {
	req.ProviderData = nil
	req.Configuration = maps.Clone(req.Configuration)
	delete(req.Configuration, oauthUserToken)
	delete(req.Configuration, ce.ConfigOAuthUserRefreshToken)
	return req
}

func stored(t *testing.T, sim *simulator.Simulator, id int64) ce.Instance {
	t.Helper()
	instance, ok := sim.Instance(id)
	if !ok {
		t.Fatalf("instance %d is gone", id)
	}
	return instance
}

func hasTokens(configuration map[string]string) bool {
	return configuration[oauthUserToken] != "" && configuration[ce.ConfigOAuthUserRefreshToken] != ""
}

func TestOAuthTokensKeptInConfiguration(t *testing.T) {
	cases := map[string]struct {
		request func(*simulator.Simulator) ce.InstanceRequest
		// wantToken and wantRefresh are the stored values; "*" is any
		// made-up value.
		wantToken, wantRefresh string
	}{
		"OAuth 2, from a code": {
			request:   func(sim *simulator.Simulator) ce.InstanceRequest { return oauth2Request(sim.IssueCode(clientID)) },
			wantToken: "*", wantRefresh: "*",
		},
		"OAuth 2 Legacy, from tokens": {
			request:   func(*simulator.Simulator) ce.InstanceRequest { return legacyRequest() },
			wantToken: "legacy-access-token", wantRefresh: "legacy-refresh-token",
		},
		"from a refresh token": {
			request:   func(*simulator.Simulator) ce.InstanceRequest { return externalRequest() },
			wantToken: "*", wantRefresh: "given-refresh-token",
		},
		"API key": {request: func(*simulator.Simulator) ce.InstanceRequest { return apiKeyRequest() }},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			env := serve(t, simulator.Options{})
			ctx := context.Background()
			created, err := env.client.CreateInstance(ctx, tc.request(env.sim))
			if err != nil {
				t.Fatal(err)
			}
			if !created.Valid {
				t.Errorf("a new instance reads valid:false")
			}
			configuration := stored(t, env.sim, created.ID).Configuration
			for key, want := range map[string]string{oauthUserToken: tc.wantToken, ce.ConfigOAuthUserRefreshToken: tc.wantRefresh} {
				got, ok := configuration[key]
				switch {
				case want == "" && ok:
					t.Errorf("%s stored for a mode without OAuth tokens", key)
				case want == "*" && len(got) < 20:
					t.Errorf("%s = %q, want a made-up token", key, got)
				case want != "" && want != "*" && got != want:
					t.Errorf("%s = %q, want %q", key, got, want)
				}
			}
			got, err := env.client.GetInstance(ctx, created.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, key := range []string{oauthUserToken, ce.ConfigOAuthUserRefreshToken} {
				if value, ok := got.Configuration[key]; ok && value != ce.MaskedValue {
					t.Errorf("GET shows %s as %q, want it masked", key, value)
				}
			}
		})
	}
}

// The highest-impact unknown: whether a plain PUT that omits the OAuth
// tokens loses them. Each way of changing an OAuth 2 instance, under each
// reading, and then a re-authorization that must always restore it.
func TestPutAndTheOAuthTokens(t *testing.T) {
	type change func(t *testing.T, env served, id int64, created ce.InstanceRequest) error
	changes := map[string]change{
		"full PUT without oauth.user.*": func(t *testing.T, env served, id int64, created ce.InstanceRequest) error {
			req := withoutTokens(created)
			req.Configuration[ce.ConfigOAuthCallbackURL] = "https://app.example/cb2"
			_, err := env.client.UpdateInstance(context.Background(), id, req)
			return err
		},
		"full PUT sending the masked tokens back": func(t *testing.T, env served, id int64, created ce.InstanceRequest) error {
			req := withoutTokens(created)
			req.Configuration[oauthUserToken] = ce.MaskedValue
			req.Configuration[ce.ConfigOAuthUserRefreshToken] = ce.MaskedValue
			_, err := env.client.UpdateInstance(context.Background(), id, req)
			return err
		},
		"PUT {name, tags}": func(t *testing.T, env served, id int64, _ ce.InstanceRequest) error {
			_, err := env.client.UpdateInstance(context.Background(), id, ce.InstanceRequest{Name: "renamed", Tags: []string{ownerTagK8s, "x"}})
			return err
		},
		"PATCH {name, tags}": func(t *testing.T, env served, id int64, _ ce.InstanceRequest) error {
			name := "renamed"
			_, err := env.client.PatchInstance(context.Background(), id, ce.InstancePatch{Name: &name, Tags: []string{ownerTagK8s, "x"}})
			return err
		},
		"PATCH configuration/{id}": func(t *testing.T, env served, id int64, _ ce.InstanceRequest) error {
			entries, err := env.client.InstanceConfiguration(context.Background(), id)
			if err != nil {
				return err
			}
			entry := entryFor(t, entries, ce.ConfigFilterResponseNulls)
			entry.PropertyValue = "false"
			_, err = env.client.SetConfigurationValue(context.Background(), id, entry)
			return err
		},
	}
	cases := []struct {
		change    string
		dropping  bool
		wantValid bool
	}{
		{"full PUT without oauth.user.*", false, true},
		{"full PUT without oauth.user.*", true, false},
		{"full PUT sending the masked tokens back", false, true},
		{"full PUT sending the masked tokens back", true, true},
		{"PUT {name, tags}", false, true},
		{"PUT {name, tags}", true, true},
		{"PATCH {name, tags}", false, true},
		{"PATCH {name, tags}", true, true},
		{"PATCH configuration/{id}", false, true},
		{"PATCH configuration/{id}", true, true},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s, PutDropsOAuthTokens=%t", tc.change, tc.dropping), func(t *testing.T) {
			env := serve(t, simulator.Options{PutDropsOAuthTokens: tc.dropping})
			ctx := context.Background()
			req := oauth2Request(env.sim.IssueCode(clientID))
			created, err := env.client.CreateInstance(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			before := stored(t, env.sim, created.ID)
			if err := changes[tc.change](t, env, created.ID, req); err != nil {
				t.Fatalf("%s: %v", tc.change, err)
			}
			got, err := env.client.GetInstance(ctx, created.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Valid != tc.wantValid {
				t.Errorf("valid = %t after %s, want %t", got.Valid, tc.change, tc.wantValid)
			}
			after := stored(t, env.sim, created.ID)
			if hasTokens(after.Configuration) != tc.wantValid {
				t.Errorf("tokens kept %t, want %t", hasTokens(after.Configuration), tc.wantValid)
			}
			if tc.wantValid && (after.Configuration[oauthUserToken] != before.Configuration[oauthUserToken] ||
				after.Configuration[ce.ConfigOAuthUserRefreshToken] != before.Configuration[ce.ConfigOAuthUserRefreshToken]) {
				t.Error("the tokens changed although nothing re-authorized the instance")
			}

			reauthorized, err := env.client.ReauthorizeInstance(ctx, created.ID, oauth2Request(env.sim.IssueCode(clientID)))
			if err != nil {
				t.Fatalf("re-authorization: %v", err)
			}
			final := stored(t, env.sim, created.ID)
			if !reauthorized.Valid || !final.Valid || !hasTokens(final.Configuration) {
				t.Errorf("after re-authorization: valid %t/%t, tokens %t; want all true", reauthorized.Valid, final.Valid, hasTokens(final.Configuration))
			}
			if final.Configuration[oauthUserToken] == before.Configuration[oauthUserToken] {
				t.Error("re-authorization kept the old access token")
			}
		})
	}
}

// Beyond the tokens: the default merges every key a full PUT leaves out,
// PutDropsOAuthTokens replaces the configuration whole.
func TestFullPutMergesOrReplaces(t *testing.T) {
	for _, dropping := range []bool{false, true} {
		t.Run(fmt.Sprint("PutDropsOAuthTokens=", dropping), func(t *testing.T) {
			env := serve(t, simulator.Options{PutDropsOAuthTokens: dropping})
			req := apiKeyRequest()
			req.Configuration["custom.kept"] = "yes"
			created, err := env.client.CreateInstance(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			update := apiKeyRequest()
			update.Configuration[ce.ConfigCreateBulkProperties] = "true"
			if _, err := env.client.UpdateInstance(context.Background(), created.ID, update); err != nil {
				t.Fatal(err)
			}
			configuration := stored(t, env.sim, created.ID).Configuration
			if _, kept := configuration["custom.kept"]; kept == dropping {
				t.Errorf("a key the PUT left out kept %t, want %t", kept, !dropping)
			}
			if configuration[ce.ConfigCreateBulkProperties] != "true" {
				t.Error("the PUT's own value was not stored")
			}
			if got, _ := env.client.GetInstance(context.Background(), created.ID); !got.Valid {
				t.Error("an API-key instance does not depend on OAuth tokens")
			}
		})
	}
}

func TestPutWithoutConfiguration(t *testing.T) {
	cases := map[string]struct {
		body              string
		status            int
		message           string
		wantName          string
		wantTags          []string
		reauthenticate    bool
		wantConfiguration bool
	}{
		"name only":           {body: `{"name":"n2"}`, status: 200, wantName: "n2", wantTags: []string{ownerTagK8s}},
		"tags only":           {body: `{"tags":["a","b"]}`, status: 200, wantName: "api-key", wantTags: []string{"a", "b"}},
		"name, tags, element": {body: `{"element":{"key":"hubspotcrm"},"name":"n3","tags":[]}`, status: 200, wantName: "n3", wantTags: []string{}},
		"null configuration":  {body: `{"name":"n4","configuration":null}`, status: 200, wantName: "n4", wantTags: []string{ownerTagK8s}},
		"empty name":          {body: `{"name":"  "}`, status: 400, message: "name must not be empty"},
		"another element":     {body: `{"element":{"key":"sfdc"},"name":"n"}`, status: 404, message: "No element found with key sfdc"},
		"empty configuration is a full PUT": {body: `{"name":"n","configuration":{}}`, status: 400,
			message: "missing required configuration"},
		"re-authorization is never partial": {body: `{"name":"n"}`, status: 400, reauthenticate: true,
			message: "missing required configuration"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			env := serve(t, simulator.Options{PutDropsOAuthTokens: true})
			created, err := env.client.CreateInstance(context.Background(), apiKeyRequest())
			if err != nil {
				t.Fatal(err)
			}
			target := fmt.Sprintf("%s/instances/%d", simulator.APIPrefix, created.ID)
			if tc.reauthenticate {
				target += "?reAuthenticate=true"
			}
			before := stored(t, env.sim, created.ID)
			resp := env.raw(t, request{method: http.MethodPut, target: target, body: tc.body})
			after := stored(t, env.sim, created.ID)
			if tc.status != 200 {
				expectError(t, resp, tc.status, tc.message)
				if diff := cmp.Diff(before, after); diff != "" {
					t.Errorf("a refused PUT changed the instance (-before +after):\n%s", diff)
				}
				return
			}
			if resp.status != 200 {
				t.Fatalf("PUT: %d %s", resp.status, resp.raw)
			}
			if after.Name != tc.wantName || !slices.Equal(after.Tags, tc.wantTags) {
				t.Errorf("name %q, tags %q; want %q, %q", after.Name, after.Tags, tc.wantName, tc.wantTags)
			}
			if diff := cmp.Diff(before.Configuration, after.Configuration); diff != "" {
				t.Errorf("a PUT without configuration changed it (-before +after):\n%s", diff)
			}
		})
	}
}

func TestPatchBody(t *testing.T) {
	cases := map[string]struct {
		body     string
		status   int
		message  string
		wantName string
		wantTags []string
	}{
		"the documented body":       {body: `{"id":%d,"name":"n2","tags":["c"]}`, status: 200, wantName: "n2", wantTags: []string{"c"}},
		"id as a string":            {body: `{"id":"%d","tags":["c","d"]}`, status: 200, wantName: "api-key", wantTags: []string{"c", "d"}},
		"no id":                     {body: `{"name":"n3"}`, status: 200, wantName: "n3", wantTags: []string{ownerTagK8s}},
		"unknown fields":            {body: `{"id":%d,"element":{"id":99},"providerData":{"code":"c"},"whatever":[1],"name":"n4"}`, status: 200, wantName: "n4", wantTags: []string{ownerTagK8s}},
		"tags replaced, not merged": {body: `{"tags":["only"]}`, status: 200, wantName: "api-key", wantTags: []string{"only"}},
		"another id":                {body: `{"id":999,"name":"n"}`, status: 400, message: "id in the body does not match"},
		"an id that is no number":   {body: `{"id":true,"name":"n"}`, status: 400, message: "id in the body does not match"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			env := serve(t, simulator.Options{})
			created, err := env.client.CreateInstance(context.Background(), apiKeyRequest())
			if err != nil {
				t.Fatal(err)
			}
			body := tc.body
			if strings.Contains(body, "%d") {
				body = fmt.Sprintf(body, created.ID)
			}
			before := stored(t, env.sim, created.ID)
			resp := env.raw(t, request{method: http.MethodPatch, target: fmt.Sprintf("%s/instances/%d", simulator.APIPrefix, created.ID), body: body})
			after := stored(t, env.sim, created.ID)
			if tc.status != 200 {
				expectError(t, resp, tc.status, tc.message)
				return
			}
			if resp.status != 200 || after.Name != tc.wantName || !slices.Equal(after.Tags, tc.wantTags) {
				t.Errorf("PATCH: %d, name %q, tags %q; want %q, %q", resp.status, after.Name, after.Tags, tc.wantName, tc.wantTags)
			}
			if diff := cmp.Diff(before.Configuration, after.Configuration); diff != "" || after.Valid != before.Valid || after.Token != before.Token {
				t.Errorf("PATCH touched more than name and tags (-before +after):\n%s", diff)
			}
		})
	}
	t.Run("through the client", func(t *testing.T) {
		env := serve(t, simulator.Options{})
		created, err := env.client.CreateInstance(context.Background(), apiKeyRequest())
		if err != nil {
			t.Fatal(err)
		}
		patched, err := env.client.PatchInstance(context.Background(), created.ID, ce.InstancePatch{Tags: []string{"z"}})
		if err != nil || !slices.Equal(patched.Tags, []string{"z"}) || patched.Name != "api-key" {
			t.Errorf("PatchInstance = %v, %v", patched, err)
		}
	})
}

func entryFor(t *testing.T, entries []ce.ConfigurationEntry, key string) ce.ConfigurationEntry {
	t.Helper()
	for _, entry := range entries {
		if entry.Key == key {
			return entry
		}
	}
	t.Fatalf("no configuration entry for %s in %v", key, entries)
	return ce.ConfigurationEntry{}
}

var elementKeys = []string{
	ce.ConfigOAuthAPIKey, ce.ConfigOAuthAPISecret, ce.ConfigOAuthCallbackURL, ce.ConfigOAuthScope, ce.ConfigOAuthUserRefreshToken,
	ce.ConfigAuthenticationType, ce.ConfigHubSpotAPIKey, ce.ConfigCreateBulkProperties, ce.ConfigEventsEnabled,
	ce.ConfigEventVendorType, ce.ConfigEventNotificationType, ce.ConfigEventCallbackURL, ce.ConfigEventSignatureKey,
	ce.ConfigEventPollerRefreshInterval, ce.ConfigEventObjects, ce.ConfigFilterResponseNulls,
	"event.poller.configuration", "event.poller.urls", oauthUserToken, "document.tagging",
}

func TestConfigurationList(t *testing.T) {
	env := serve(t, simulator.Options{})
	ctx := context.Background()
	req := oauth2Request(env.sim.IssueCode(clientID))
	req.Configuration["custom.key"] = "custom value"
	oauth, err := env.client.CreateInstance(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	apiKey, err := env.client.CreateInstance(ctx, apiKeyRequest())
	if err != nil {
		t.Fatal(err)
	}

	entries, err := env.client.InstanceConfiguration(ctx, oauth.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	ids := map[int64]bool{}
	for _, entry := range entries {
		got[entry.Key] = entry.PropertyValue
		ids[entry.ID] = true
	}
	want := map[string]string{}
	for _, key := range elementKeys {
		want[key] = ""
	}
	maps.Copy(want, map[string]string{
		ce.ConfigAuthenticationType:    ce.AuthenticationTypeOAuth2,
		ce.ConfigOAuthAPIKey:           ce.MaskedValue,
		ce.ConfigOAuthAPISecret:        ce.MaskedValue,
		ce.ConfigOAuthCallbackURL:      "https://app.example/cb",
		ce.ConfigOAuthScope:            "contacts timeline",
		ce.ConfigFilterResponseNulls:   "true",
		oauthUserToken:                 ce.MaskedValue,
		ce.ConfigOAuthUserRefreshToken: ce.MaskedValue,
		"custom.key":                   "custom value",
	})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("configuration entries (-want +got):\n%s", diff)
	}
	if len(ids) != len(entries) || ids[0] {
		t.Errorf("entry ids must be unique and set: %v", entries)
	}

	again, err := env.client.InstanceConfiguration(ctx, oauth.ID)
	if err != nil || !cmp.Equal(entries, again) {
		t.Errorf("a second list differs: %v, %v", again, err)
	}
	other, err := env.client.InstanceConfiguration(ctx, apiKey.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, entry := range other {
		if ids[entry.ID] {
			t.Errorf("entry id %d names keys of two instances", entry.ID)
		}
	}

	one := entryFor(t, entries, ce.ConfigOAuthCallbackURL)
	resp := env.raw(t, request{method: http.MethodGet, target: fmt.Sprintf("%s/instances/%d/configuration/%d", simulator.APIPrefix, oauth.ID, one.ID)})
	if resp.status != 200 || resp.body["key"] != one.Key || resp.body["propertyValue"] != one.PropertyValue || resp.body["id"] != float64(one.ID) {
		t.Errorf("GET one entry: %d %s", resp.status, resp.raw)
	}
	secret := entryFor(t, entries, ce.ConfigOAuthAPISecret)
	resp = env.raw(t, request{method: http.MethodGet, target: fmt.Sprintf("%s/instances/%d/configuration/%d", simulator.APIPrefix, oauth.ID, secret.ID)})
	if resp.body["propertyValue"] != ce.MaskedValue {
		t.Errorf("GET one secret entry: %s", resp.raw)
	}
	for _, target := range []string{
		fmt.Sprintf("/instances/%d/configuration/%d", oauth.ID, entryFor(t, other, ce.ConfigHubSpotAPIKey).ID),
		fmt.Sprintf("/instances/%d/configuration/999999", oauth.ID),
		fmt.Sprintf("/instances/%d/configuration/abc", oauth.ID),
	} {
		expectError(t, env.raw(t, request{method: http.MethodGet, target: simulator.APIPrefix + target}), 404, "No configuration found with ID")
	}
	expectError(t, env.raw(t, request{method: http.MethodGet, target: simulator.APIPrefix + "/instances/77/configuration"}), 404, "No instance found with ID 77")
	expectError(t, env.raw(t, request{method: http.MethodPost, target: simulator.APIPrefix + "/instances/1/configuration"}), 405, "not allowed")
	if n := env.sim.Count(simulator.OpConfiguration, 200); n != 5 {
		t.Errorf("%d configuration reads counted, want 5", n)
	}
}

func TestSetConfigurationValue(t *testing.T) {
	cases := map[string]struct {
		key     string
		body    string // %d is the entry id; "" → through SetConfigurationValue with value
		value   string
		status  int
		message string
		want    string // stored afterwards; "-" → absent
	}{
		"a string, through the client":       {key: ce.ConfigFilterResponseNulls, value: "false", status: 200, want: "false"},
		"a new event key":                    {key: "event.poller.urls", value: "/hubs/crm/contacts\n/hubs/crm/deals", status: 200, want: "/hubs/crm/contacts\n/hubs/crm/deals"},
		"a boolean":                          {key: ce.ConfigFilterResponseNulls, body: `{"id":%d,"key":"filter.response.nulls","propertyValue":false}`, status: 200, want: "false"},
		"a number":                           {key: ce.ConfigEventPollerRefreshInterval, body: `{"propertyValue":15}`, status: 200, want: "15"},
		"an object":                          {key: "event.poller.configuration", body: `{"propertyValue":{"contacts": {"url": "/hubs/crm/contacts"}}}`, status: 200, want: `{"contacts":{"url":"/hubs/crm/contacts"}}`},
		"null unsets":                        {key: "custom.key", body: `{"propertyValue":null}`, status: 200, want: "-"},
		"the masked secret keeps it":         {key: ce.ConfigOAuthAPISecret, body: `{"propertyValue":"********"}`, status: 200, want: clientSecret},
		"a new secret":                       {key: ce.ConfigOAuthAPISecret, value: "rotated-secret", status: 200, want: "rotated-secret"},
		"another key":                        {key: ce.ConfigFilterResponseNulls, body: `{"key":"document.tagging","propertyValue":"false"}`, status: 400, message: "key in the body does not match"},
		"another id":                         {key: ce.ConfigFilterResponseNulls, body: `{"id":1,"propertyValue":"false"}`, status: 400, message: "id in the body does not match"},
		"no value":                           {key: ce.ConfigFilterResponseNulls, body: `{"key":"filter.response.nulls"}`, status: 400, message: "missing required field: propertyValue"},
		"a list":                             {key: ce.ConfigFilterResponseNulls, body: `{"propertyValue":[true]}`, status: 400, message: "propertyValue must be a string"},
		"a value the key refuses":            {key: ce.ConfigEventVendorType, value: "carrier-pigeon", status: 400, message: "event.vendor.type must be"},
		"poller configuration not an object": {key: "event.poller.configuration", value: "[1]", status: 400, message: "event.poller.configuration must be a JSON object"},
		"the authentication mode":            {key: ce.ConfigAuthenticationType, value: ce.AuthenticationTypeAPIKey, status: 400, message: "reAuthenticate=true"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			env := serve(t, simulator.Options{PutDropsOAuthTokens: true})
			ctx := context.Background()
			req := oauth2Request(env.sim.IssueCode(clientID))
			req.Configuration["custom.key"] = "custom value"
			created, err := env.client.CreateInstance(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			entries, err := env.client.InstanceConfiguration(ctx, created.ID)
			if err != nil {
				t.Fatal(err)
			}
			entry := entryFor(t, entries, tc.key)
			before := stored(t, env.sim, created.ID)

			var status int
			var message string
			if tc.body == "" {
				entry.PropertyValue = tc.value
				out, err := env.client.SetConfigurationValue(ctx, created.ID, entry)
				status = 200
				if err != nil {
					var apiErr *ce.APIError
					if !errors.As(err, &apiErr) {
						t.Fatalf("SetConfigurationValue: %v", err)
					}
					status, message = apiErr.StatusCode, apiErr.Message
				} else if out.ID != entry.ID || out.Key != tc.key {
					t.Errorf("answer %v, want the entry", out)
				}
			} else {
				body := tc.body
				if strings.Contains(body, "%d") {
					body = fmt.Sprintf(body, entry.ID)
				}
				resp := env.raw(t, request{method: http.MethodPatch, target: fmt.Sprintf("%s/instances/%d/configuration/%d", simulator.APIPrefix, created.ID, entry.ID), body: body})
				status = resp.status
				message, _ = resp.body["message"].(string)
				if status == 200 && (resp.body["id"] != float64(entry.ID) || resp.body["key"] != tc.key) {
					t.Errorf("answer %s, want the entry", resp.raw)
				}
				if status == 200 && ce.IsSecretConfigKey(tc.key) && resp.body["propertyValue"] != ce.MaskedValue {
					t.Errorf("the answer shows a secret: %s", resp.raw)
				}
			}
			if status != tc.status || !strings.Contains(message, tc.message) {
				t.Fatalf("status %d %q, want %d %q", status, message, tc.status, tc.message)
			}

			after := stored(t, env.sim, created.ID)
			wantConfiguration := maps.Clone(before.Configuration)
			if tc.status == 200 {
				if tc.want == "-" {
					delete(wantConfiguration, tc.key)
				} else {
					wantConfiguration[tc.key] = tc.want
				}
			}
			if diff := cmp.Diff(wantConfiguration, after.Configuration); diff != "" {
				t.Errorf("configuration (-want +got):\n%s", diff)
			}
			if !after.Valid || after.Name != before.Name || !slices.Equal(after.Tags, before.Tags) {
				t.Errorf("a per-key change touched more than its key: %v", after)
			}
		})
	}
}

func TestEnableAndDisable(t *testing.T) {
	env := serve(t, simulator.Options{})
	ctx := context.Background()
	first, err := env.client.CreateInstance(ctx, apiKeyRequest())
	if err != nil {
		t.Fatal(err)
	}
	second, err := env.client.CreateInstance(ctx, apiKeyRequest())
	if err != nil {
		t.Fatal(err)
	}
	disabled := func(id int64) bool {
		t.Helper()
		got, err := env.client.GetInstance(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return got.Disabled
	}

	if err := env.client.SetInstanceEnabled(ctx, first.ID, false); err != nil || !disabled(first.ID) || disabled(second.ID) {
		t.Errorf("DELETE /instances/{id}/enabled: %v; disabled %t/%t", err, disabled(first.ID), disabled(second.ID))
	}
	if err := env.client.SetInstanceEnabled(ctx, first.ID, true); err != nil || disabled(first.ID) {
		t.Errorf("PUT /instances/{id}/enabled: %v", err)
	}
	if err := env.client.SetInstanceEnabled(ctx, 77, false); !ce.IsNotFound(err) {
		t.Errorf("an unknown id: %v", err)
	}

	byToken := func(method, header string) response {
		return env.raw(t, request{method: method, target: simulator.APIPrefix + "/instances/enabled", anonymous: true, header: map[string]string{"Authorization": header}})
	}
	threePart := authorization + ", Element " + second.Token
	if resp := byToken(http.MethodDelete, threePart); resp.status != 200 || resp.body["disabled"] != true || !disabled(second.ID) || disabled(first.ID) {
		t.Errorf("DELETE /instances/enabled: %d %s", resp.status, resp.raw)
	}
	if resp := byToken(http.MethodPut, "Element "+second.Token+", Organization "+organizationSecret+", User "+userSecret); resp.status != 200 || disabled(second.ID) {
		t.Errorf("PUT /instances/enabled, parts in another order: %d %s", resp.status, resp.raw)
	}
	for name, header := range map[string]string{
		"no element token":      authorization,
		"an unknown token":      authorization + ", Element not-a-token",
		"a wrong user secret":   "User nope, Organization " + organizationSecret + ", Element " + second.Token,
		"only the element part": "Element " + second.Token,
	} {
		expectError(t, byToken(http.MethodDelete, header), 401, "Invalid Organization or User secret")
		if disabled(second.ID) {
			t.Errorf("%s: the instance was disabled anyway", name)
		}
	}
	expectError(t, env.raw(t, request{method: http.MethodGet, target: simulator.APIPrefix + "/instances/enabled"}), 405, "not allowed")
	if n := env.sim.Count(simulator.OpEnable, 200); n != 4 {
		t.Errorf("%d enable calls counted as 200, want 4 (%v)", n, env.sim.Counts())
	}
}

func TestClientIDMasking(t *testing.T) {
	for _, clear := range []bool{false, true} {
		t.Run(fmt.Sprint("ClearClientID=", clear), func(t *testing.T) {
			env := serve(t, simulator.Options{ClearClientID: clear})
			ctx := context.Background()
			want := ce.MaskedValue
			if clear {
				want = clientID
			}
			created, err := env.client.CreateInstance(ctx, oauth2Request(env.sim.IssueCode(clientID)))
			if err != nil {
				t.Fatal(err)
			}
			got, err := env.client.GetInstance(ctx, created.ID)
			if err != nil {
				t.Fatal(err)
			}
			listed, err := env.client.ListInstances(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			entries, err := env.client.InstanceConfiguration(ctx, created.ID)
			if err != nil {
				t.Fatal(err)
			}
			for what, value := range map[string]string{
				"create": created.Configuration[ce.ConfigOAuthAPIKey],
				"get":    got.Configuration[ce.ConfigOAuthAPIKey],
				"list":   listed[0].Configuration[ce.ConfigOAuthAPIKey],
				"entry":  entryFor(t, entries, ce.ConfigOAuthAPIKey).PropertyValue,
			} {
				if value != want {
					t.Errorf("%s shows oauth.api.key as %q, want %q", what, value, want)
				}
			}
			if got.Configuration[ce.ConfigOAuthAPISecret] != ce.MaskedValue {
				t.Error("the client secret is not masked")
			}
			if stored(t, env.sim, created.ID).Configuration[ce.ConfigOAuthAPIKey] != clientID {
				t.Error("the Go accessors must show the stored client id")
			}

			// What a client read, sent back: the masked client id keeps the
			// stored one, so that the id a later code is checked against stays.
			req := withoutTokens(oauth2Request(""))
			req.Configuration = maps.Clone(got.Configuration)
			if _, err := env.client.UpdateInstance(ctx, created.ID, req); err != nil {
				t.Fatal(err)
			}
			if stored(t, env.sim, created.ID).Configuration[ce.ConfigOAuthAPIKey] != clientID {
				t.Error("a client id sent back as read replaced the stored one")
			}
		})
	}
}

func TestConfigurationValueTypesOnWrite(t *testing.T) {
	base := `{"element":{"key":"hubspotcrm"},"name":"crm","configuration":{"authentication.type":"apiKey","hubspot.authorization.apikey":"k",%s}}`
	cases := map[string]struct {
		entries string
		status  int
		message string
		want    map[string]string
	}{
		"booleans": {entries: `"filter.response.nulls":true,"create.bulk.properties":false,"document.tagging":false`, status: 200,
			want: map[string]string{ce.ConfigFilterResponseNulls: "true", ce.ConfigCreateBulkProperties: "false", "document.tagging": "false"}},
		"numbers": {entries: `"event.poller.refresh_interval":15,"custom.ratio":1.5e3`, status: 200,
			want: map[string]string{ce.ConfigEventPollerRefreshInterval: "15", "custom.ratio": "1.5e3"}},
		"the poller configuration as an object": {entries: `"event.poller.configuration":{"contacts": {"url": "/hubs/crm/contacts", "idField": "vid"}}`, status: 200,
			want: map[string]string{"event.poller.configuration": `{"contacts":{"url":"/hubs/crm/contacts","idField":"vid"}}`}},
		"the poller configuration as a string": {entries: `"event.poller.configuration":"{\"contacts\":{}}","event.poller.urls":"anything at all"`, status: 200,
			want: map[string]string{"event.poller.configuration": `{"contacts":{}}`, "event.poller.urls": "anything at all"}},
		"a boolean the key refuses":       {entries: `"filter.response.nulls":1`, status: 400, message: `filter.response.nulls must be "true" or "false"`},
		"a list":                          {entries: `"event.objects":["contacts"]`, status: 400, message: "configuration value for event.objects must be a string, a boolean, a number or an object"},
		"a poller configuration not JSON": {entries: `"event.poller.configuration":"contacts"`, status: 400, message: "event.poller.configuration must be a JSON object"},
		"a poller configuration list":     {entries: `"event.poller.configuration":"[]"`, status: 400, message: "event.poller.configuration must be a JSON object"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			env := serve(t, simulator.Options{})
			resp := env.raw(t, request{method: http.MethodPost, target: simulator.APIPrefix + "/instances", body: fmt.Sprintf(base, tc.entries)})
			if tc.status != 200 {
				expectError(t, resp, tc.status, tc.message)
				return
			}
			if resp.status != 200 {
				t.Fatalf("create: %d %s", resp.status, resp.raw)
			}
			configuration := stored(t, env.sim, 1).Configuration
			for key, want := range tc.want {
				if configuration[key] != want {
					t.Errorf("%s stored as %q, want %q", key, configuration[key], want)
				}
			}
		})
	}
}

func TestEventKeys(t *testing.T) {
	cases := []struct {
		name    string
		strict  bool
		events  map[string]string
		status  int
		message string
	}{
		{name: "events on, no vendor or callback", events: map[string]string{ce.ConfigEventsEnabled: "true"}, status: 200},
		{name: "events on, no vendor or callback", strict: true, events: map[string]string{ce.ConfigEventsEnabled: "true"}, status: 400,
			message: "missing required configuration: event.notification.callback.url, event.vendor.type"},
		{name: "webhooks", events: map[string]string{ce.ConfigEventsEnabled: "true", ce.ConfigEventVendorType: "webhooks", ce.ConfigEventCallbackURL: "https://e.example"}, status: 200},
		{name: "webhooks", strict: true, events: map[string]string{ce.ConfigEventsEnabled: "true", ce.ConfigEventVendorType: "webhooks", ce.ConfigEventCallbackURL: "https://e.example"}, status: 400,
			message: `event.vendor.type must be "webhook" or "polling"`},
		{name: "webhook", strict: true, events: map[string]string{ce.ConfigEventsEnabled: "true", ce.ConfigEventVendorType: "webhook", ce.ConfigEventCallbackURL: "https://e.example"}, status: 200},
		{name: "polling", events: map[string]string{ce.ConfigEventsEnabled: "true", ce.ConfigEventVendorType: "polling"}, status: 200},
		{name: "an unknown vendor", events: map[string]string{ce.ConfigEventsEnabled: "true", ce.ConfigEventVendorType: "carrier-pigeon"}, status: 400,
			message: `event.vendor.type must be "webhook" or "polling" or "webhooks"`},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s, StrictEventKeys=%t", tc.name, tc.strict), func(t *testing.T) {
			env := serve(t, simulator.Options{StrictEventKeys: tc.strict})
			req := apiKeyRequest()
			maps.Copy(req.Configuration, tc.events)
			created, err := env.client.CreateInstance(context.Background(), req)
			if tc.status == 200 {
				if err != nil || !created.EventsEnabled {
					t.Errorf("create: %v", err)
				}
				return
			}
			var apiErr *ce.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tc.status || apiErr.Message != tc.message && !strings.Contains(apiErr.Message, tc.message) {
				t.Errorf("got %v, want %d %q", err, tc.status, tc.message)
			}
		})
	}
}

func TestNamesAndTagsSanitised(t *testing.T) {
	const xss = `<a href="#" onClick="javascript:alert('xss');return false;">churros-xss</a>`
	cases := map[string]struct {
		in, want string
	}{
		"churros' name":            {in: xss, want: "churros-xss"},
		"a tag with a leading @":   {in: `<a href="#" onClick="javascript:alert('xss');return false;">@churros-xss</a>`, want: "@churros-xss"},
		"script and comment":       {in: `a<script>b</script><!-- c -->d<br/>`, want: "abd"},
		"the owner tag":            {in: ownerTagK8s, want: ownerTagK8s},
		"plain text with <":        {in: "a < b", want: "a < b"},
		"plain text with & and \"": {in: `x & "y" > z`, want: `x & "y" > z`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			env := serve(t, simulator.Options{})
			ctx := context.Background()
			req := apiKeyRequest()
			req.Name, req.Tags = tc.in, []string{tc.in, "plain"}
			check := func(what string, got *ce.Instance, err error) {
				t.Helper()
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				if got.Name != tc.want || !slices.Equal(got.Tags, []string{tc.want, "plain"}) {
					t.Errorf("%s: name %q, tags %q; want %q", what, got.Name, got.Tags, tc.want)
				}
				if s := stored(t, env.sim, got.ID); s.Name != tc.want || s.Tags[0] != tc.want {
					t.Errorf("%s: stored name %q, tags %q", what, s.Name, s.Tags)
				}
			}
			created, err := env.client.CreateInstance(ctx, req)
			check("create", created, err)
			updated, err := env.client.UpdateInstance(ctx, created.ID, req)
			check("full PUT", updated, err)
			renamed, err := env.client.UpdateInstance(ctx, created.ID, ce.InstanceRequest{Name: tc.in, Tags: req.Tags})
			check("PUT {name, tags}", renamed, err)
			patched, err := env.client.PatchInstance(ctx, created.ID, ce.InstancePatch{Name: &tc.in, Tags: req.Tags})
			check("PATCH", patched, err)
		})
	}
	t.Run("a name that is only markup", func(t *testing.T) {
		env := serve(t, simulator.Options{})
		req := apiKeyRequest()
		req.Name = "<b></b>"
		if _, err := env.client.CreateInstance(context.Background(), req); !ce.IsInvalidRequest(err) || !strings.Contains(err.Error(), "missing required field: name") {
			t.Errorf("got %v, want a 400 for the empty name", err)
		}
	})
}

func TestExtraInstanceFields(t *testing.T) {
	for _, omit := range []bool{false, true} {
		t.Run(fmt.Sprint("OmitExtraInstanceFields=", omit), func(t *testing.T) {
			env := serve(t, simulator.Options{OmitExtraInstanceFields: omit})
			if _, err := env.client.CreateInstance(context.Background(), apiKeyRequest()); err != nil {
				t.Fatal(err)
			}
			resp := env.raw(t, request{method: http.MethodGet, target: simulator.APIPrefix + "/instances/1"})
			for _, field := range []string{"user", "createdDate", "updatedDate", "elementId", "traceLoggingEnabled"} {
				if _, ok := resp.body[field]; ok == omit {
					t.Errorf("%s present %t, want %t", field, ok, !omit)
				}
			}
			if omit {
				return
			}
			user, _ := resp.body["user"].(map[string]any)
			for _, field := range []string{"id", "emailAddress", "firstName", "lastName"} {
				if _, ok := user[field]; !ok {
					t.Errorf("user has no %s: %v", field, user)
				}
			}
			if resp.body["elementId"] != float64(ce.ElementID) || resp.body["traceLoggingEnabled"] != false {
				t.Errorf("elementId %v, traceLoggingEnabled %v", resp.body["elementId"], resp.body["traceLoggingEnabled"])
			}
		})
	}
}

func TestSearchText(t *testing.T) {
	cases := map[string]struct {
		query             string
		emptyListNotFound bool
		want              []string
		status            int
	}{
		"by name, any case":            {query: "searchText=SALES", want: []string{"Sales CRM"}},
		"by element key":               {query: "searchText=sfdc", want: []string{"imported"}},
		"by element key, hubspotcrm":   {query: "searchText=HubSpot", want: []string{"Sales CRM", "marketing"}},
		"with tags[]":                  {query: "searchText=hubspot&tags%5B%5D=team-a", want: []string{"marketing"}},
		"nothing matches":              {query: "searchText=nowhere", want: []string{}},
		"nothing matches, 404 reading": {query: "searchText=nowhere", emptyListNotFound: true, status: 404},
		"no filter":                    {query: "", want: []string{"Sales CRM", "marketing", "imported"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			env := serve(t, simulator.Options{EmptyListNotFound: tc.emptyListNotFound})
			for _, instance := range []struct {
				name string
				tags []string
			}{{"Sales CRM", []string{"team-b"}}, {"marketing", []string{"team-a"}}, {"imported", []string{"team-a"}}} {
				req := apiKeyRequest()
				req.Name, req.Tags = instance.name, instance.tags
				if _, err := env.client.CreateInstance(context.Background(), req); err != nil {
					t.Fatal(err)
				}
			}
			if err := env.sim.SetElementKey(3, "sfdc"); err != nil {
				t.Fatal(err)
			}
			resp := env.raw(t, request{method: http.MethodGet, target: simulator.APIPrefix + "/instances?" + tc.query})
			if tc.status != 0 {
				expectError(t, resp, tc.status, "No instances found")
				return
			}
			got := []string{}
			for _, instance := range resp.list {
				got = append(got, instance["name"].(string))
			}
			if resp.status != 200 || !slices.Equal(got, tc.want) {
				t.Errorf("GET /instances?%s: %d %q, want %q", tc.query, resp.status, got, tc.want)
			}
		})
	}
}

func TestFaultsOnTheNewOperations(t *testing.T) {
	env := serve(t, simulator.Options{})
	ctx := context.Background()
	created, err := env.client.CreateInstance(ctx, apiKeyRequest())
	if err != nil {
		t.Fatal(err)
	}
	entries, err := env.client.InstanceConfiguration(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]func() error{
		simulator.OpConfiguration: func() error { _, err := env.client.InstanceConfiguration(ctx, created.ID); return err },
		simulator.OpSetConfiguration: func() error {
			entry := entryFor(t, entries, ce.ConfigFilterResponseNulls)
			entry.PropertyValue = "false"
			_, err := env.client.SetConfigurationValue(ctx, created.ID, entry)
			return err
		},
		simulator.OpEnable: func() error { return env.client.SetInstanceEnabled(ctx, created.ID, false) },
	}
	for op, call := range calls {
		env.sim.SetFault(op, simulator.Fault{FailNext: 1, Status: http.StatusServiceUnavailable})
		var apiErr *ce.APIError
		if err := call(); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s with a fault: %v", op, err)
		}
		if err := call(); err != nil {
			t.Errorf("%s after the fault: %v", op, err)
		}
		if env.sim.Count(op, http.StatusServiceUnavailable) != 1 {
			t.Errorf("%s: counts %v", op, env.sim.Counts())
		}
	}
}

// SAP's 429 is for a payload or a run time over its limits: resending never
// passes. FailAlways with NoRetryAfter plays it.
func TestPermanent429(t *testing.T) {
	const message = "Request payload exceeds the maximum size"
	cases := map[string]struct {
		fault          simulator.Fault
		requests       int
		wantRetryAfter bool
		stillSet       bool
	}{
		"a size-limit refusal":     {fault: simulator.Fault{FailAlways: true, Status: 429, NoRetryAfter: true, Message: message}, requests: 5, stillSet: true},
		"a rate limit that passes": {fault: simulator.Fault{FailNext: 1, Status: 429, Message: message}, requests: 1, wantRetryAfter: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			env := serve(t, simulator.Options{})
			env.sim.SetFault(simulator.OpCreate, tc.fault)
			for range tc.requests {
				_, err := env.client.CreateInstance(context.Background(), apiKeyRequest())
				var apiErr *ce.APIError
				if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.Message != message || (apiErr.RetryAfter > 0) != tc.wantRetryAfter {
					t.Fatalf("got %#v, want a 429 %q with Retry-After %t", err, message, tc.wantRetryAfter)
				}
			}
			_, set := env.sim.Faults()[simulator.OpCreate]
			if set != tc.stillSet {
				t.Errorf("fault still set %t, want %t", set, tc.stillSet)
			}
			if len(env.sim.Instances()) != 0 {
				t.Error("a refused create created an instance")
			}
		})
	}
	t.Run("over the knob", func(t *testing.T) {
		env := serve(t, simulator.Options{})
		resp := env.raw(t, request{method: http.MethodPut, target: "/simulator/faults/update", anonymous: true,
			body: `{"failAlways":true,"status":429,"noRetryAfter":true,"message":"` + message + `"}`})
		if resp.status != 200 {
			t.Fatalf("PUT fault: %d %s", resp.status, resp.raw)
		}
		want := simulator.Fault{FailAlways: true, Status: 429, NoRetryAfter: true, Message: message}
		if diff := cmp.Diff(want, env.sim.Faults()[simulator.OpUpdate]); diff != "" {
			t.Errorf("fault from JSON (-want +got):\n%s", diff)
		}
	})
}
