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
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	ce "github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
)

func TestOAuthConsentDance(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	resp, err := e.client.OAuthURL(ctx, ce.OAuthURLRequest{
		APIKey: clientID, APISecret: clientSecret, Scopes: []string{"contacts", "timeline"},
		CallbackURL: callbackURL, State: "ns/name+uid=1",
	})
	if err != nil {
		t.Fatalf("OAuthURL: %v", err)
	}
	if resp.Element != ce.ElementKey {
		t.Errorf("element = %q, want %q", resp.Element, ce.ElementKey)
	}
	consentURL, err := url.Parse(resp.OAuthURL)
	if err != nil {
		t.Fatal(err)
	}
	if consentURL.Path != "/simulator/hubspot/oauth/authorize" {
		t.Errorf("oauthUrl path = %s, want the simulator's HubSpot authorize page", consentURL.Path)
	}
	for param, want := range map[string]string{"client_id": clientID, "redirect_uri": callbackURL, "scope": "contacts timeline", "state": "ns/name+uid=1"} {
		if got := consentURL.Query().Get(param); got != want {
			t.Errorf("oauthUrl %s = %q, want %q", param, got, want)
		}
	}
	if strings.Contains(resp.OAuthURL, clientSecret) {
		t.Error("oauthUrl carries the client secret")
	}
	if auth := e.header(simulator.APIPrefix + "/elements/hubspotcrm/oauth/url").Get("Authorization"); auth != "" {
		t.Errorf("the OAuth URL call sent an Authorization header; it is documented without one")
	}

	callback := consent(t, resp.OAuthURL)
	if callback.Get("state") != "ns/name+uid=1" {
		t.Errorf("callback state = %q, want it passed through unchanged", callback.Get("state"))
	}
	instance := e.create(t, oauth2Request(callback.Get("code")))
	if !instance.Valid || instance.Token == "" {
		t.Errorf("instance from a fresh code: valid=%t token=%q", instance.Valid, instance.Token)
	}

	denied := consent(t, resp.OAuthURL+"&simulate=deny")
	if denied.Get("error") != "access_denied" || denied.Has("code") || denied.Get("state") != "ns/name+uid=1" {
		t.Errorf("denied consent sent %v; want error=access_denied, no code, the state", denied)
	}
}

func TestOAuthURLDefaultsAndLegacy(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	resp, err := e.client.OAuthURL(ctx, ce.OAuthURLRequest{APIKey: clientID, APISecret: clientSecret, CallbackURL: callbackURL})
	if err != nil {
		t.Fatalf("OAuthURL: %v", err)
	}
	query := mustQuery(t, resp.OAuthURL)
	if query.Get("state") != ce.ElementKey || query.Get("scope") != "contacts timeline files" {
		t.Errorf("without state and scope: state=%q scope=%q; want the element key and the default scopes", query.Get("state"), query.Get("scope"))
	}

	legacy, err := e.client.OAuthURL(ctx, ce.OAuthURLRequest{
		ElementKey: "168", APIKey: clientID, APISecret: portalID, Scopes: []string{"contacts-rw offline"}, CallbackURL: callbackURL, State: "s1",
	})
	if err != nil {
		t.Fatalf("legacy OAuthURL: %v", err)
	}
	legacyURL, _ := url.Parse(legacy.OAuthURL)
	if legacyURL.Path != "/simulator/hubspot/auth/authenticate" || legacyURL.Query().Get("portalId") != portalID ||
		legacyURL.Query().Get("scope") != "contacts-rw offline" {
		t.Errorf("legacy oauthUrl = %s; want the legacy authenticate shape with portalId", legacy.OAuthURL)
	}
	callback := consent(t, legacy.OAuthURL)
	if callback.Get("access_token") == "" || callback.Get("refresh_token") == "" || callback.Get("expires_in") == "" || callback.Has("code") {
		t.Fatalf("legacy callback = %v; want access_token, refresh_token, expires_in and no code", callback)
	}
	req := seedRequest(t, seedLegacy, "")
	req.ProviderData.AccessToken, req.ProviderData.RefreshToken = callback.Get("access_token"), callback.Get("refresh_token")
	e.create(t, req)
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

func TestSeedExamplesAreAccepted(t *testing.T) {
	e := newEnv(t)
	cases := map[string]struct {
		seed        string
		secretKey   string
		clearSecret string
	}{
		"OAuth 2":        {seed: seedOAuth2, secretKey: ce.ConfigOAuthAPISecret, clearSecret: clientSecret},
		"OAuth 2 Legacy": {seed: seedLegacy, secretKey: ce.ConfigOAuthAPISecret, clearSecret: portalID},
		"API key":        {seed: seedAPIKey, secretKey: ce.ConfigHubSpotAPIKey, clearSecret: hubSpotAPIKey},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			instance := e.create(t, seedRequest(t, tc.seed, e.sim.IssueCode(clientID)))
			if instance.ID == 0 || len(instance.Token) != 40 || !instance.Valid || instance.Disabled {
				t.Errorf("instance = %v; want an id, a 40-character token, valid and enabled", instance)
			}
			if instance.Name != "crm-prod" || !slices.Equal(instance.Tags, []string{"owner=team-a"}) {
				t.Errorf("name/tags = %q/%q", instance.Name, instance.Tags)
			}
			if instance.Element.ID != ce.ElementID || instance.Element.Key != ce.ElementKey || instance.Element.Name != "HubSpot CRM" || !instance.Element.TypeOauth {
				t.Errorf("element block = %+v", instance.Element)
			}
			if instance.ProvisionInteractions == nil || instance.ExternalAuthentication != ce.ExternalAuthenticationNone {
				t.Errorf("provisionInteractions=%v externalAuthentication=%q", instance.ProvisionInteractions, instance.ExternalAuthentication)
			}
			if got := instance.Configuration[tc.secretKey]; got != ce.MaskedValue {
				t.Errorf("create returned %s = %q, want it masked", tc.secretKey, got)
			}
			read, err := e.client.GetInstance(context.Background(), instance.ID)
			if err != nil {
				t.Fatalf("GetInstance: %v", err)
			}
			if read.Token != instance.Token || read.Configuration[tc.secretKey] != ce.MaskedValue {
				t.Errorf("GET returned token %t, %s=%q; want the token and the secret masked", read.Token == instance.Token, tc.secretKey, read.Configuration[tc.secretKey])
			}
			stored, _ := e.sim.Instance(instance.ID)
			if stored.Configuration[tc.secretKey] != tc.clearSecret {
				t.Errorf("the simulator stored %s wrongly", tc.secretKey)
			}
		})
	}
}

func TestSeedExamplesMissingAnEntryAreRefusedByName(t *testing.T) {
	e := newEnv(t)
	cases := map[string][]string{
		// authentication.type is not listed for the API-key body: without it the
		// body is an OAuth 2 body, refused for the OAuth 2 entries instead.
		seedAPIKey: {ce.ConfigHubSpotAPIKey},
		seedOAuth2: {ce.ConfigOAuthAPIKey, ce.ConfigOAuthAPISecret, ce.ConfigOAuthCallbackURL, "providerData.code"},
		seedLegacy: {ce.ConfigOAuthAPIKey, ce.ConfigOAuthAPISecret, ce.ConfigOAuthCallbackURL, ce.ConfigOAuthScope, "providerData.access_token", "providerData.refresh_token"},
	}
	for seed, required := range cases {
		for _, entry := range required {
			for _, removal := range []string{"absent", "empty"} {
				t.Run(entry+"/"+removal, func(t *testing.T) {
					req := seedRequest(t, seed, e.sim.IssueCode(clientID))
					blank(&req, entry, removal == "empty")
					_, err := e.client.CreateInstance(context.Background(), req)
					if !ce.IsInvalidRequest(err) {
						t.Fatalf("want an invalid-request error, got %v", err)
					}
					if got, want := apiError(t, err).Message, "missing required configuration: "+entry; got != want {
						t.Errorf("message = %q, want %q", got, want)
					}
				})
			}
		}
	}
	if n := len(e.sim.Instances()); n != 0 {
		t.Errorf("%d instances were created from refused bodies", n)
	}
}

func blank(req *ce.InstanceRequest, entry string, empty bool) {
	if field, ok := strings.CutPrefix(entry, "providerData."); ok {
		p := req.ProviderData
		target := map[string]*string{"code": &p.Code, "access_token": &p.AccessToken, "refresh_token": &p.RefreshToken}[field]
		*target = ""
		return
	}
	if empty {
		req.Configuration[entry] = ""
	} else {
		delete(req.Configuration, entry)
	}
}

func TestCreateNamesEveryMissingEntryAtOnce(t *testing.T) {
	// The event keys are required only under the strict reading; the record
	// marks them optional.
	for strict, want := range map[bool]string{
		true:  "missing required configuration: event.notification.callback.url, event.vendor.type, oauth.api.secret, oauth.callback.url, providerData.code",
		false: "missing required configuration: oauth.api.secret, oauth.callback.url, providerData.code",
	} {
		_, client, _ := readingEnv(t, simulator.Options{StrictEventKeys: strict})
		req := oauth2Request("")
		delete(req.Configuration, ce.ConfigOAuthAPISecret)
		delete(req.Configuration, ce.ConfigOAuthCallbackURL)
		req.Configuration[ce.ConfigEventsEnabled] = "true"
		_, err := client.CreateInstance(context.Background(), req)
		if got := apiError(t, err).Message; got != want {
			t.Errorf("StrictEventKeys %t: message = %q\nwant      %q", strict, got, want)
		}
	}
}

func TestCreateRefusesInvalidValues(t *testing.T) {
	e := newEnv(t)
	cases := map[string]struct {
		edit func(*ce.InstanceRequest)
		want string
	}{
		"unknown authentication.type": {
			edit: func(r *ce.InstanceRequest) { r.Configuration[ce.ConfigAuthenticationType] = "basic" },
			want: `unsupported authentication.type "basic"`,
		},
		"create.bulk.properties not a boolean string": {
			edit: func(r *ce.InstanceRequest) { r.Configuration[ce.ConfigCreateBulkProperties] = "yes" },
			want: `create.bulk.properties must be "true" or "false"`,
		},
		"unknown event vendor": {
			edit: func(r *ce.InstanceRequest) {
				r.Configuration[ce.ConfigEventsEnabled] = "true"
				r.Configuration[ce.ConfigEventCallbackURL] = "https://events.example"
				r.Configuration[ce.ConfigEventVendorType] = "carrier-pigeon"
			},
			want: `event.vendor.type must be "webhook" or "polling"`,
		},
		"no name": {
			edit: func(r *ce.InstanceRequest) { r.Name = "" },
			want: "missing required field: name",
		},
		"unknown externalAuthentication": {
			edit: func(r *ce.InstanceRequest) { r.ExternalAuthentication = "later" },
			want: `unsupported externalAuthentication "later"`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			req := apiKeyRequest("crm")
			tc.edit(&req)
			_, err := e.client.CreateInstance(context.Background(), req)
			if !ce.IsInvalidRequest(err) || !strings.Contains(apiError(t, err).Message, tc.want) {
				t.Errorf("got %v; want a 400 saying %q", err, tc.want)
			}
		})
	}

	t.Run("legacy portal id not digits", func(t *testing.T) {
		req := seedRequest(t, seedLegacy, "")
		req.Configuration[ce.ConfigOAuthAPISecret] = clientSecret
		_, err := e.client.CreateInstance(context.Background(), req)
		if !ce.IsInvalidRequest(err) || !strings.Contains(err.Error(), "portal id") {
			t.Errorf("got %v; want a 400 about the portal id", err)
		}
		assertNoSecrets(t, "error", err.Error())
	})
}

func TestCreateWithEventsAndExternalAuthentication(t *testing.T) {
	e := newEnv(t)
	req := apiKeyRequest("crm")
	req.Configuration[ce.ConfigEventsEnabled] = "true"
	req.Configuration[ce.ConfigEventVendorType] = "webhook"
	req.Configuration[ce.ConfigEventCallbackURL] = "https://events.example/hook"
	req.Configuration[ce.ConfigEventSignatureKey] = "signature-key"
	instance := e.create(t, req)
	if !instance.EventsEnabled || instance.Configuration[ce.ConfigEventSignatureKey] != ce.MaskedValue {
		t.Errorf("eventsEnabled=%t signature key=%q", instance.EventsEnabled, instance.Configuration[ce.ConfigEventSignatureKey])
	}

	external := e.create(t, ce.InstanceRequest{
		Name:                   "from-refresh-token",
		ExternalAuthentication: ce.ExternalAuthenticationInitial,
		Configuration: map[string]string{
			ce.ConfigOAuthAPIKey: clientID, ce.ConfigOAuthAPISecret: clientSecret, ce.ConfigOAuthUserRefreshToken: refreshToken,
		},
	})
	if external.ExternalAuthentication != ce.ExternalAuthenticationInitial || external.Configuration[ce.ConfigOAuthUserRefreshToken] != ce.MaskedValue {
		t.Errorf("external instance = %v", external)
	}
}

func TestCodesAreSingleUseBoundAndExpire(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	used := e.sim.IssueCode(clientID)
	e.create(t, oauth2Request(used))
	expired := e.sim.IssueCode(clientID)
	e.clock.Advance(10*time.Minute + time.Second)

	cases := map[string]struct {
		code, clientID, provider string
	}{
		"reused":         {code: used, clientID: clientID, provider: "already used"},
		"expired":        {code: expired, clientID: clientID, provider: "expired"},
		"unknown":        {code: "00000000-0000-0000-0000-000000000000", clientID: clientID, provider: "unknown"},
		"other clientID": {code: e.sim.IssueCode("another-client"), clientID: clientID, provider: "different client_id"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			req := oauth2Request(tc.code)
			req.Configuration[ce.ConfigOAuthAPIKey] = tc.clientID
			_, err := e.client.CreateInstance(ctx, req)
			if !ce.IsInvalidRequest(err) || ce.IsRetryable(err) {
				t.Fatalf("got %v; want a non-retryable 400", err)
			}
			if apiErr := apiError(t, err); !strings.Contains(apiErr.ProviderMessage, tc.provider) || apiErr.RequestID == "" {
				t.Errorf("providerMessage=%q requestId=%q; want one about %q", apiErr.ProviderMessage, apiErr.RequestID, tc.provider)
			}
		})
	}

	t.Run("a refused create does not use the code up", func(t *testing.T) {
		code := e.sim.IssueCode(clientID)
		req := oauth2Request(code)
		delete(req.Configuration, ce.ConfigOAuthCallbackURL)
		if _, err := e.client.CreateInstance(ctx, req); !ce.IsInvalidRequest(err) {
			t.Fatalf("got %v, want 400", err)
		}
		e.create(t, oauth2Request(code))
	})
}

func TestUnauthorized(t *testing.T) {
	e := newEnv(t, func(o *ce.Options) { o.OrganizationSecret = "wrong-org-secret" })
	ctx := context.Background()
	calls := map[string]func() error{
		"create": func() error { _, err := e.client.CreateInstance(ctx, apiKeyRequest("crm")); return err },
		"get":    func() error { _, err := e.client.GetInstance(ctx, 1); return err },
		"list":   func() error { _, err := e.client.ListInstances(ctx, nil); return err },
		"update": func() error { _, err := e.client.UpdateInstance(ctx, 1, apiKeyRequest("crm")); return err },
		"patch": func() error {
			_, err := e.client.PatchInstance(ctx, 1, ce.InstancePatch{Tags: []string{"x"}})
			return err
		},
		"delete": func() error { return e.client.DeleteInstance(ctx, 1) },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			if !ce.IsUnauthorized(err) || ce.IsRetryable(err) || ce.IsInvalidRequest(err) {
				t.Fatalf("got %v; want only IsUnauthorized", err)
			}
			if msg := apiError(t, err).Message; msg != "Invalid Organization or User secret, or invalid Element token provided." {
				t.Errorf("message = %q", msg)
			}
			assertNoSecrets(t, "error", err.Error())
		})
	}
	if _, err := e.client.OAuthURL(ctx, ce.OAuthURLRequest{APIKey: clientID, APISecret: clientSecret, CallbackURL: callbackURL}); err != nil {
		t.Errorf("the OAuth URL needs no credentials, got %v", err)
	}
}

func TestNotFound(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const unknown = 999
	calls := map[string]func() error{
		"get":         func() error { _, err := e.client.GetInstance(ctx, unknown); return err },
		"update":      func() error { _, err := e.client.UpdateInstance(ctx, unknown, apiKeyRequest("crm")); return err },
		"reauthorize": func() error { _, err := e.client.ReauthorizeInstance(ctx, unknown, oauth2Request("c")); return err },
		"patch": func() error {
			_, err := e.client.PatchInstance(ctx, unknown, ce.InstancePatch{Tags: []string{"x"}})
			return err
		},
		"delete": func() error { return e.client.DeleteInstance(ctx, unknown) },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			if !ce.IsNotFound(err) || ce.IsRetryable(err) || ce.IsInvalidRequest(err) {
				t.Fatalf("got %v; want only IsNotFound", err)
			}
			if msg := apiError(t, err).Message; msg != "No instance found with ID 999" {
				t.Errorf("message = %q", msg)
			}
		})
	}

	t.Run("unknown element", func(t *testing.T) {
		req := apiKeyRequest("crm")
		req.Element.Key = "salesforce"
		_, err := e.client.CreateInstance(ctx, req)
		if !ce.IsNotFound(err) || apiError(t, err).Message != "No element found with key salesforce" {
			t.Errorf("create: got %v", err)
		}
		_, err = e.client.OAuthURL(ctx, ce.OAuthURLRequest{ElementKey: "salesforce", APIKey: clientID, APISecret: clientSecret, CallbackURL: callbackURL})
		if !ce.IsNotFound(err) || apiError(t, err).Message != "No element found with key salesforce" {
			t.Errorf("oauth url: got %v", err)
		}
	})
}

func TestUpdateReplacesAndKeepsMaskedSecrets(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	created := e.create(t, apiKeyRequest("crm", "a", "b"))

	// Sent back as read: the masked key must keep the stored value.
	req := ce.InstanceRequest{Name: "crm-renamed", Tags: []string{"c"}, Configuration: created.Configuration}
	req.Configuration[ce.ConfigCreateBulkProperties] = "true"
	updated, err := e.client.UpdateInstance(ctx, created.ID, req)
	if err != nil {
		t.Fatalf("UpdateInstance: %v", err)
	}
	if updated.Name != "crm-renamed" || !slices.Equal(updated.Tags, []string{"c"}) || updated.Configuration[ce.ConfigCreateBulkProperties] != "true" {
		t.Errorf("updated = %v", updated)
	}
	if updated.Token != created.Token {
		t.Error("a PUT changed the element token")
	}
	stored, _ := e.sim.Instance(created.ID)
	if stored.Configuration[ce.ConfigHubSpotAPIKey] != hubSpotAPIKey {
		t.Error("a masked value sent back replaced the stored secret")
	}

	t.Run("validated like a create", func(t *testing.T) {
		req := apiKeyRequest("crm")
		delete(req.Configuration, ce.ConfigHubSpotAPIKey)
		_, err := e.client.UpdateInstance(ctx, created.ID, req)
		if !ce.IsInvalidRequest(err) || apiError(t, err).Message != "missing required configuration: hubspot.authorization.apikey" {
			t.Errorf("got %v", err)
		}
	})
	t.Run("switching to OAuth needs re-authentication", func(t *testing.T) {
		req := oauth2Request("")
		req.ProviderData = nil
		_, err := e.client.UpdateInstance(ctx, created.ID, req)
		if !ce.IsInvalidRequest(err) || !strings.Contains(err.Error(), "reAuthenticate=true") {
			t.Errorf("got %v", err)
		}
	})
}

func TestReauthorize(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	created := e.create(t, oauth2Request(e.sim.IssueCode(clientID)))
	if err := e.sim.Invalidate(created.ID); err != nil {
		t.Fatal(err)
	}
	lapsed, err := e.client.GetInstance(ctx, created.ID)
	if err != nil || lapsed.Valid {
		t.Fatalf("after Invalidate: %v, valid=%t", err, lapsed != nil && lapsed.Valid)
	}

	_, err = e.client.ReauthorizeInstance(ctx, created.ID, ce.InstanceRequest{Name: "crm"})
	if err == nil || !strings.Contains(err.Error(), "providerData") || e.sim.Total(simulator.OpReauthorize) != 0 {
		t.Errorf("without a code: got %v after %d requests; want a local error", err, e.sim.Total(simulator.OpReauthorize))
	}

	code := e.sim.IssueCode(clientID)
	reauthorized, err := e.client.ReauthorizeInstance(ctx, created.ID, oauth2Request(code))
	if err != nil || !reauthorized.Valid {
		t.Fatalf("ReauthorizeInstance: %v", err)
	}
	if e.header(simulator.APIPrefix+"/instances/1") == nil || e.sim.Count(simulator.OpReauthorize, http.StatusOK) != 1 {
		t.Error("the re-authorization did not reach PUT ?reAuthenticate=true")
	}

	_, err = e.client.ReauthorizeInstance(ctx, created.ID, oauth2Request(code))
	if !ce.IsInvalidRequest(err) || !strings.Contains(apiError(t, err).ProviderMessage, "already used") {
		t.Errorf("a reused code: got %v", err)
	}
}

func TestPatchReplacesTagsWhole(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	created := e.create(t, apiKeyRequest("crm", "a", "b"))

	patched, err := e.client.PatchInstance(ctx, created.ID, ce.InstancePatch{Tags: []string{"c"}})
	if err != nil || !slices.Equal(patched.Tags, []string{"c"}) || patched.Name != "crm" {
		t.Fatalf("patch tags: %v %v", err, patched)
	}
	name := "crm-2"
	patched, err = e.client.PatchInstance(ctx, created.ID, ce.InstancePatch{Name: &name})
	if err != nil || patched.Name != name || !slices.Equal(patched.Tags, []string{"c"}) {
		t.Fatalf("patch name: %v %v", err, patched)
	}
}

func TestDeleteAndVanishing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first := e.create(t, apiKeyRequest("one"))
	second := e.create(t, apiKeyRequest("two"))

	if err := e.client.DeleteInstance(ctx, first.ID); err != nil {
		t.Fatalf("DeleteInstance: %v", err)
	}
	if _, err := e.client.GetInstance(ctx, first.ID); !ce.IsNotFound(err) {
		t.Errorf("get after delete: %v", err)
	}
	if err := e.client.DeleteInstance(ctx, first.ID); !ce.IsNotFound(err) {
		t.Errorf("second delete: %v", err)
	}

	if err := e.sim.SetDisabled(second.ID, true); err != nil {
		t.Fatal(err)
	}
	if disabled, err := e.client.GetInstance(ctx, second.ID); err != nil || !disabled.Disabled {
		t.Errorf("a disabled instance must stay readable: %v", err)
	}
	if err := e.sim.Remove(second.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.GetInstance(ctx, second.ID); !ce.IsNotFound(err) {
		t.Errorf("get after removal behind our back: %v", err)
	}
}

func TestListPagesAndStopsEarly(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const total = 450
	for i := 1; i <= total; i++ {
		e.create(t, apiKeyRequest(fmt.Sprintf("crm-%d", i), fmt.Sprintf("n=%d", i)))
	}

	all, err := e.client.ListInstances(ctx, nil)
	if err != nil {
		t.Fatalf("ListInstances: %v", err)
	}
	if len(all) != total || all[0].ID != 1 || all[total-1].ID != total {
		t.Fatalf("listed %d instances, want %d in id order", len(all), total)
	}
	if all[0].Token == "" || all[0].Configuration[ce.ConfigHubSpotAPIKey] != ce.MaskedValue {
		t.Error("a listed instance must carry its token and masked secrets")
	}
	if pages := e.sim.Count(simulator.OpList, http.StatusOK); pages != 3 {
		t.Errorf("read %d pages, want 3", pages)
	}

	cases := map[string]struct {
		tag   string
		pages int
		found int
	}{
		"match on the first page": {tag: "n=5", pages: 1, found: 1},
		"match on the last page":  {tag: "n=420", pages: 3, found: 1},
		"no match":                {tag: "n=none", pages: 3, found: 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e.sim.ResetCounts()
			found, err := e.client.ListInstances(ctx, func(i ce.Instance) bool { return slices.Contains(i.Tags, tc.tag) })
			if err != nil {
				t.Fatal(err)
			}
			if len(found) != tc.found || e.sim.Total(simulator.OpList) != tc.pages {
				t.Errorf("found %d after %d pages; want %d after %d", len(found), e.sim.Total(simulator.OpList), tc.found, tc.pages)
			}
		})
	}
}

func TestEveryOperationOverTheWire(t *testing.T) {
	e := newEnv(t, func(o *ce.Options) { o.UserAgent = "" })
	ctx := context.Background()
	created := e.create(t, apiKeyRequest("crm"))
	if _, err := e.client.GetInstance(ctx, created.ID); err != nil {
		t.Fatal(err)
	}
	h := e.header(simulator.APIPrefix + "/instances/1")
	if got := h.Get("User-Agent"); got != "hubspot-operator/"+ce.Version {
		t.Errorf("User-Agent = %q", got)
	}
	if got := h.Get("Authorization"); got != "User "+userSecret+", Organization "+organizationSecret {
		t.Error("the Authorization header is not the documented User/Organization form")
	}
	if got := e.header(simulator.APIPrefix + "/instances").Get("Content-Type"); got != "application/json" {
		t.Errorf("create Content-Type = %q", got)
	}
}

func TestRetryableFailures(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	created := e.create(t, apiKeyRequest("crm"))
	get := func() error { _, err := e.client.GetInstance(ctx, created.ID); return err }

	t.Run("429 with Retry-After seconds", func(t *testing.T) {
		e.sim.SetFault(simulator.OpGet, simulator.Fault{FailNext: 1, Status: http.StatusTooManyRequests, RetryAfter: 7 * time.Second})
		err := get()
		delay, ok := ce.RetryAfter(err)
		if !ce.IsRetryable(err) || !ok || delay != 7*time.Second {
			t.Errorf("got %v, Retry-After %v %t; want retryable after 7s", err, delay, ok)
		}
	})
	t.Run("429 with Retry-After as an HTTP date", func(t *testing.T) {
		e.sim.SetFault(simulator.OpGet, simulator.Fault{FailNext: 1, Status: http.StatusTooManyRequests, RetryAfter: 30 * time.Second, RetryAfterHTTPDate: true})
		// The simulator's clock is fixed; line it up with the client's.
		e.clock.mu.Lock()
		e.clock.now = time.Now()
		e.clock.mu.Unlock()
		err := get()
		delay, ok := ce.RetryAfter(err)
		if !ce.IsRetryable(err) || !ok || delay < 28*time.Second || delay > 31*time.Second {
			t.Errorf("got %v, Retry-After %v %t; want about 30s", err, delay, ok)
		}
	})
	t.Run("rate-limit fraction", func(t *testing.T) {
		e.sim.SetFault(simulator.OpGet, simulator.Fault{RateLimitRate: 1})
		err := get()
		if delay, ok := ce.RetryAfter(err); !ok || delay != time.Second || apiError(t, err).StatusCode != http.StatusTooManyRequests {
			t.Errorf("got %v; want 429 after the default second", err)
		}
	})
	t.Run("5xx", func(t *testing.T) {
		e.sim.SetFault(simulator.OpGet, simulator.Fault{ErrorRate: 1})
		seen := map[int]bool{}
		for range 30 {
			err := get()
			if !ce.IsRetryable(err) {
				t.Fatalf("got %v; want retryable", err)
			}
			if _, ok := ce.RetryAfter(err); ok {
				t.Errorf("a 5xx without Retry-After reported one")
			}
			seen[apiError(t, err).StatusCode] = true
		}
		if !seen[500] || !seen[502] || !seen[503] {
			t.Errorf("saw %v; want 500, 502 and 503", seen)
		}
	})
	e.sim.ClearFaults()
	if err := get(); err != nil {
		t.Errorf("after ClearFaults: %v", err)
	}
}

func TestStatusClassification(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		status                                 int
		notFound, unauthorized, invalid, retry bool
	}{
		{status: 400, invalid: true},
		{status: 401, unauthorized: true},
		{status: 403, unauthorized: true},
		{status: 404, notFound: true},
		{status: 405},
		{status: 406},
		{status: 409, invalid: true},
		{status: 415, invalid: true},
		{status: 422, invalid: true},
		{status: 429, retry: true},
		{status: 500, retry: true},
		{status: 502, retry: true},
		{status: 503, retry: true},
		{status: 504, retry: true},
	}
	for _, tc := range cases {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			e.sim.SetFault(simulator.OpList, simulator.Fault{FailNext: 1, Status: tc.status})
			_, err := e.client.ListInstances(context.Background(), nil)
			got := [4]bool{ce.IsNotFound(err), ce.IsUnauthorized(err), ce.IsInvalidRequest(err), ce.IsRetryable(err)}
			if want := [4]bool{tc.notFound, tc.unauthorized, tc.invalid, tc.retry}; got != want {
				t.Errorf("%v: [notFound unauthorized invalid retryable] = %v, want %v", err, got, want)
			}
			if apiErr := apiError(t, err); apiErr.StatusCode != tc.status || apiErr.RequestID == "" || apiErr.Operation == "" {
				t.Errorf("APIError = %+v", apiErr)
			}
		})
	}
}

func TestMalformedBodies(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cases := map[string]struct {
		op     string
		status int
		body   string
		call   func() error
		want   []string
		decode bool // a *DecodeError rather than an *APIError
	}{
		"HTML error page": {
			op: simulator.OpGet, status: 502, body: "<html><body><h1>502 Bad Gateway</h1></body></html>",
			call: func() error { _, err := e.client.GetInstance(ctx, 1); return err },
			want: []string{"502 Bad Gateway", "not valid JSON", "text/html"},
		},
		"truncated JSON error": {
			op: simulator.OpCreate, status: 400, body: `{"message": "missing requ`,
			call: func() error { _, err := e.client.CreateInstance(ctx, apiKeyRequest("crm")); return err },
			want: []string{"400 Bad Request", "not valid JSON", "unexpected end of JSON input"},
		},
		"JSON error that is not an object": {
			op: simulator.OpDelete, status: 500, body: `["boom"]`,
			call: func() error { return e.client.DeleteInstance(ctx, 1) },
			want: []string{"500 Internal Server Error", "not an object"},
		},
		"empty error body": {
			op: simulator.OpPatch, status: 503, body: " ",
			call: func() error { _, err := e.client.PatchInstance(ctx, 1, ce.InstancePatch{}); return err },
			want: []string{"503 Service Unavailable", "empty response body"},
		},
		"truncated instance": {
			op: simulator.OpGet, status: 200, body: `{"id": 7, "name": "crm", "tok`, decode: true,
			call: func() error { _, err := e.client.GetInstance(ctx, 1); return err },
			want: []string{"get instance: 200 OK", "not valid JSON"},
		},
		"HTML instead of a page": {
			op: simulator.OpList, status: 200, body: "<html>maintenance</html>", decode: true,
			call: func() error { _, err := e.client.ListInstances(ctx, nil); return err },
			want: []string{"list instances: 200 OK", "not valid JSON", "text/html"},
		},
		"wrong shape": {
			op: simulator.OpUpdate, status: 200, body: `[{"id": 1}]`, decode: true,
			call: func() error { _, err := e.client.UpdateInstance(ctx, 1, apiKeyRequest("crm")); return err },
			want: []string{"update instance: 200 OK", "cannot decode"},
		},
		"instance without an id": {
			op: simulator.OpCreate, status: 200, body: `{"name": "crm"}`, decode: true,
			call: func() error { _, err := e.client.CreateInstance(ctx, apiKeyRequest("crm")); return err },
			want: []string{"no instance id"},
		},
		"OAuth URL without a URL": {
			op: simulator.OpOAuthURL, status: 200, body: `{"element": "hubspotcrm"}`, decode: true,
			call: func() error {
				_, err := e.client.OAuthURL(ctx, ce.OAuthURLRequest{APIKey: clientID, APISecret: clientSecret, CallbackURL: callbackURL})
				return err
			},
			want: []string{"no oauthUrl"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e.sim.SetFault(tc.op, simulator.Fault{FailNext: 1, Status: tc.status, Body: tc.body})
			err := tc.call()
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			var decodeErr *ce.DecodeError
			if tc.decode != errors.As(err, &decodeErr) {
				t.Errorf("got %T, decode error wanted: %t", err, tc.decode)
			}
			if tc.decode && ce.IsRetryable(err) {
				t.Error("an undecodable 2xx must not be retryable")
			}
		})
	}
}

func TestTimeoutsAndConnectionErrors(t *testing.T) {
	t.Run("hanging request with a short client timeout", func(t *testing.T) {
		e := newEnv(t, func(o *ce.Options) { o.HTTPClient = &http.Client{Timeout: 150 * time.Millisecond} })
		e.sim.SetFault(simulator.OpGet, simulator.Fault{HangRate: 1, HangFor: 10 * time.Second})
		started := time.Now()
		_, err := e.client.GetInstance(context.Background(), 1)
		if !ce.IsRetryable(err) || time.Since(started) > 5*time.Second {
			t.Fatalf("got %v after %v; want a prompt retryable timeout", err, time.Since(started))
		}
		waitFor(t, func() bool { return e.sim.Count(simulator.OpGet, http.StatusGatewayTimeout) == 1 })
	})
	t.Run("caller cancels", func(t *testing.T) {
		e := newEnv(t)
		e.sim.SetFault(simulator.OpGet, simulator.Fault{HangRate: 1, HangFor: 10 * time.Second})
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		_, err := e.client.GetInstance(ctx, 1)
		if err == nil || ce.IsRetryable(err) || !errors.Is(err, context.Canceled) {
			t.Errorf("got %v; want a non-retryable cancellation", err)
		}
	})
	t.Run("caller's deadline", func(t *testing.T) {
		e := newEnv(t)
		e.sim.SetFault(simulator.OpGet, simulator.Fault{Latency: 5 * time.Second})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if _, err := e.client.GetInstance(ctx, 1); !ce.IsRetryable(err) {
			t.Errorf("got %v; want retryable", err)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		e := newEnv(t)
		e.server.Close()
		_, err := e.client.OAuthURL(context.Background(), ce.OAuthURLRequest{APIKey: clientID, APISecret: clientSecret, CallbackURL: callbackURL})
		if !ce.IsRetryable(err) {
			t.Errorf("got %v; want retryable", err)
		}
		if !strings.Contains(err.Error(), "apiSecret=REDACTED") {
			t.Errorf("error %q should show the URL with the secret redacted", err)
		}
		assertNoSecrets(t, "error", err.Error())
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			assertNoSecrets(t, "unwrapped url.Error", urlErr.Error())
		}
	})
}

func waitFor(t *testing.T, condition func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !condition() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestNoSecretsInErrorsLogsOrPrints(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var errs []error

	oauth, err := e.client.OAuthURL(ctx, ce.OAuthURLRequest{APIKey: clientID, APISecret: clientSecret, CallbackURL: callbackURL})
	if err != nil {
		t.Fatal(err)
	}
	code := consent(t, oauth.OAuthURL).Get("code")
	e.create(t, oauth2Request(code))
	_, err = e.client.CreateInstance(ctx, oauth2Request(code))
	errs = append(errs, err)
	legacy := seedRequest(t, seedLegacy, "")
	legacy.Configuration[ce.ConfigOAuthAPISecret] = clientSecret
	_, err = e.client.CreateInstance(ctx, legacy)
	errs = append(errs, err)

	// A platform or proxy that echoes what it was sent.
	echo := fmt.Sprintf(`{"message":"bad key %s for %s","providerMessage":"token %s","requestId":"r1"}`, hubSpotAPIKey, userSecret, accessToken)
	e.sim.SetFault(simulator.OpCreate, simulator.Fault{FailNext: 1, Status: 400, Body: echo})
	req := apiKeyRequest("crm")
	req.ProviderData = &ce.ProviderData{AccessToken: accessToken}
	_, err = e.client.CreateInstance(ctx, req)
	if !strings.Contains(err.Error(), "[REDACTED]") {
		t.Errorf("echoed secrets were not scrubbed: %v", err)
	}
	errs = append(errs, err)

	bad := newClient(t, ce.Options{Endpoint: e.client.Endpoint(), UserSecret: userSecret, OrganizationSecret: "wrong-org-secret"})
	_, err = bad.GetInstance(ctx, 1)
	errs = append(errs, err)

	for _, err := range errs {
		if err == nil {
			t.Fatal("expected an error")
		}
		assertNoSecrets(t, "error", err.Error())
	}

	instance, _ := e.sim.Instance(1)
	printed := fmt.Sprintf("%v %+v %#v %v %+v %#v %v %s", oauth2Request(code), legacy, instance,
		ce.Options{UserSecret: userSecret, OrganizationSecret: organizationSecret}, *legacy.ProviderData,
		ce.OAuthURLRequest{APISecret: clientSecret}, e.client, &legacy)
	assertNoSecrets(t, "printed values", printed)
	if strings.Contains(printed, code) || strings.Contains(printed, instance.Token) {
		t.Error("printed values show the code or the element token")
	}

	e.server.Close() // waits for the handlers, so the log is complete
	assertNoSecrets(t, "simulator log", e.log.String())
	if strings.Contains(e.log.String(), code) {
		t.Error("the simulator logged an authorization code")
	}
	if !strings.Contains(e.log.String(), "op=create status=400") {
		t.Errorf("the simulator log lacks requests:\n%s", e.log.String())
	}
}
