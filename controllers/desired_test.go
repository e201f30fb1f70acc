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

package controllers

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	ce "github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
)

func objectWith(auth elementsv1alpha1.AuthSpec) *elementsv1alpha1.HubSpotInstance {
	return &elementsv1alpha1.HubSpotInstance{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "crm", UID: "uid-1"},
		Spec: elementsv1alpha1.HubSpotInstanceSpec{
			Platform: elementsv1alpha1.PlatformSpec{CredentialsSecretRef: elementsv1alpha1.CredentialsSecretRef{Name: "creds"}},
			Tags:     []string{"zeta", "alpha"},
			Auth:     auth,
		},
	}
}

var (
	oauth2 = elementsv1alpha1.AuthSpec{Type: elementsv1alpha1.AuthTypeOAuth2, OAuth2: &elementsv1alpha1.OAuth2Auth{
		Scopes: []string{"crm.objects.contacts.read", "oauth"}, CallbackURL: "https://op.example/oauth/callback"}}
	legacy = elementsv1alpha1.AuthSpec{Type: elementsv1alpha1.AuthTypeOAuth2Legacy, OAuth2Legacy: &elementsv1alpha1.OAuth2LegacyAuth{
		PortalID: "4711", CallbackURL: "https://op.example/legacy"}}
	apiKey = elementsv1alpha1.AuthSpec{Type: elementsv1alpha1.AuthTypeAPIKey, APIKey: &elementsv1alpha1.APIKeyAuth{CreateBulkProperties: true}}
)

var resolved = &inputs{clientID: "client-id", clientSecret: "client-secret", apiKey: "api-key",
	accessToken: "access", refreshToken: "refresh", expiresIn: "3600", code: "code-1", signatureKey: "sig"}

func TestDesiredInstance(t *testing.T) {
	events := &elementsv1alpha1.EventsSpec{Enabled: true, CallbackURL: "https://hooks.example/in", Objects: []string{"contacts", "deals"}}
	cases := map[string]struct {
		auth       elementsv1alpha1.AuthSpec
		events     *elementsv1alpha1.EventsSpec
		extra      map[string]string
		wantConfig map[string]string
		wantPD     *ce.ProviderData
	}{
		"OAuth 2": {auth: oauth2, wantConfig: map[string]string{
			ce.ConfigAuthenticationType: "oauth2", ce.ConfigOAuthAPIKey: "client-id", ce.ConfigOAuthAPISecret: "client-secret",
			ce.ConfigOAuthCallbackURL: "https://op.example/oauth/callback", ce.ConfigOAuthScope: "crm.objects.contacts.read oauth"},
			wantPD: &ce.ProviderData{Code: "code-1"}},
		"OAuth 2 Legacy, default scopes": {auth: legacy, wantConfig: map[string]string{
			ce.ConfigOAuthAPIKey: "client-id", ce.ConfigOAuthAPISecret: "4711",
			ce.ConfigOAuthCallbackURL: "https://op.example/legacy", ce.ConfigOAuthScope: "contacts-rw+offline"},
			wantPD: &ce.ProviderData{APIKey: "client-id", AccessToken: "access", RefreshToken: "refresh", ExpiresIn: "3600"}},
		"API key": {auth: apiKey, wantConfig: map[string]string{
			ce.ConfigAuthenticationType: "apiKey", ce.ConfigHubSpotAPIKey: "api-key", ce.ConfigCreateBulkProperties: "true"}},
		"API key with events, defaults filled in": {auth: apiKey, events: events, wantConfig: map[string]string{
			ce.ConfigAuthenticationType: "apiKey", ce.ConfigHubSpotAPIKey: "api-key", ce.ConfigCreateBulkProperties: "true",
			ce.ConfigEventsEnabled: "true", ce.ConfigEventVendorType: "polling", ce.ConfigEventNotificationType: "webhook",
			ce.ConfigEventCallbackURL: "https://hooks.example/in", ce.ConfigEventPollerRefreshInterval: "15",
			ce.ConfigEventObjects: "contacts,deals", ce.ConfigEventSignatureKey: "sig"}},
		"events disabled send only the switch": {auth: apiKey, events: &elementsv1alpha1.EventsSpec{}, wantConfig: map[string]string{
			ce.ConfigAuthenticationType: "apiKey", ce.ConfigHubSpotAPIKey: "api-key", ce.ConfigCreateBulkProperties: "true",
			ce.ConfigEventsEnabled: "false"}},
		"a poller: resources as one JSON object keyed by name, urls one per line": {auth: apiKey, events: pollerEvents(), wantConfig: map[string]string{
			ce.ConfigAuthenticationType: "apiKey", ce.ConfigHubSpotAPIKey: "api-key", ce.ConfigCreateBulkProperties: "true",
			ce.ConfigEventsEnabled: "true", ce.ConfigEventVendorType: "polling", ce.ConfigEventNotificationType: "webhook",
			ce.ConfigEventCallbackURL: "https://hooks.example/in", ce.ConfigEventPollerRefreshInterval: "15", ce.ConfigEventSignatureKey: "sig",
			ce.ConfigEventPollerConfiguration: wantPollerJSON, ce.ConfigEventPollerURLs: "contacts\naccounts"}},
		"a poller with urls only": {auth: apiKey, events: &elementsv1alpha1.EventsSpec{Enabled: true,
			Poller: &elementsv1alpha1.EventPollerSpec{URLs: []string{"contacts"}}}, wantConfig: map[string]string{
			ce.ConfigAuthenticationType: "apiKey", ce.ConfigHubSpotAPIKey: "api-key", ce.ConfigCreateBulkProperties: "true",
			ce.ConfigEventsEnabled: "true", ce.ConfigEventVendorType: "polling", ce.ConfigEventNotificationType: "webhook",
			ce.ConfigEventPollerRefreshInterval: "15", ce.ConfigEventSignatureKey: "sig", ce.ConfigEventPollerURLs: "contacts"}},
		"events disabled drop the poller": {auth: apiKey, events: func() *elementsv1alpha1.EventsSpec {
			ev := pollerEvents()
			ev.Enabled = false
			return ev
		}(), wantConfig: map[string]string{
			ce.ConfigAuthenticationType: "apiKey", ce.ConfigHubSpotAPIKey: "api-key", ce.ConfigCreateBulkProperties: "true",
			ce.ConfigEventsEnabled: "false"}},
		"events without a callbackURL omit its key": {auth: apiKey, events: &elementsv1alpha1.EventsSpec{Enabled: true}, wantConfig: map[string]string{
			ce.ConfigAuthenticationType: "apiKey", ce.ConfigHubSpotAPIKey: "api-key", ce.ConfigCreateBulkProperties: "true",
			ce.ConfigEventsEnabled: "true", ce.ConfigEventVendorType: "polling", ce.ConfigEventNotificationType: "webhook",
			ce.ConfigEventPollerRefreshInterval: "15", ce.ConfigEventSignatureKey: "sig"}},
		"vendor type webhooks is sent as written": {auth: apiKey, events: &elementsv1alpha1.EventsSpec{Enabled: true,
			VendorType: elementsv1alpha1.EventVendorTypeWebhooks, CallbackURL: "https://hooks.example/in"}, wantConfig: map[string]string{
			ce.ConfigAuthenticationType: "apiKey", ce.ConfigHubSpotAPIKey: "api-key", ce.ConfigCreateBulkProperties: "true",
			ce.ConfigEventsEnabled: "true", ce.ConfigEventVendorType: "webhooks", ce.ConfigEventNotificationType: "webhook",
			ce.ConfigEventCallbackURL: "https://hooks.example/in", ce.ConfigEventPollerRefreshInterval: "15", ce.ConfigEventSignatureKey: "sig"}},
		"raw configuration passes through": {auth: apiKey, extra: map[string]string{"filter.response.nulls": "true"}, wantConfig: map[string]string{
			ce.ConfigAuthenticationType: "apiKey", ce.ConfigHubSpotAPIKey: "api-key", ce.ConfigCreateBulkProperties: "true",
			"filter.response.nulls": "true"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			obj := objectWith(tc.auth)
			obj.Spec.Events, obj.Spec.Configuration = tc.events, tc.extra
			got := desiredInstance(obj, resolved, identityWithout(obj))
			want := ce.InstanceRequest{
				Element:       ce.ElementRef{Key: ce.ElementKey},
				Name:          "team-crm",
				Tags:          []string{"alpha", "zeta", "k8s:team/crm/uid-1", elementsv1alpha1.ManagedTag},
				Configuration: tc.wantConfig,
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("desiredInstance (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantPD, providerDataFor(obj, resolved)); diff != "" {
				t.Errorf("providerDataFor (-want +got):\n%s", diff)
			}
		})
	}
}

// pollerEvents has resources listed out of name order, one with every
// field (as in the vendor's HubSpot polling example) and one with a url only.
func pollerEvents() *elementsv1alpha1.EventsSpec {
	return &elementsv1alpha1.EventsSpec{Enabled: true, CallbackURL: "https://hooks.example/in",
		Poller: &elementsv1alpha1.EventPollerSpec{
			Resources: []elementsv1alpha1.EventPollerResource{
				{Name: "contacts", URL: "/hubs/crm/contacts?where=lastmodifieddate='${date}'", IDField: "vid",
					DatesConfiguration: &elementsv1alpha1.EventPollerDates{
						UpdatedDateField: "properties.lastmodifieddate", UpdatedDateFormat: "milliseconds",
						CreatedDateField: "properties.createdate", CreatedDateFormat: "milliseconds"}},
				{Name: "accounts", URL: "/hubs/crm/accounts?where=lastmodifieddate>'${date}'&pageSize=200"},
			},
			URLs: []string{"contacts", "accounts"},
		}}
}

const wantPollerJSON = `{"accounts":{"url":"/hubs/crm/accounts?where=lastmodifieddate>'${date}'&pageSize=200"},` +
	`"contacts":{"url":"/hubs/crm/contacts?where=lastmodifieddate='${date}'","idField":"vid",` +
	`"datesConfiguration":{"updatedDateField":"properties.lastmodifieddate","updatedDateFormat":"milliseconds",` +
	`"createdDateField":"properties.createdate","createdDateFormat":"milliseconds"}}}`

func TestPollerConfigurationIgnoresResourceOrder(t *testing.T) {
	obj := objectWith(apiKey)
	obj.Spec.Events = pollerEvents()
	reordered := obj.DeepCopy()
	slices.Reverse(reordered.Spec.Events.Poller.Resources)
	editedURL := obj.DeepCopy()
	editedURL.Spec.Events.Poller.Resources[1].URL = "/hubs/crm/accounts"

	got := desiredInstance(reordered, resolved, identityWithout(reordered)).Configuration[ce.ConfigEventPollerConfiguration]
	if diff := cmp.Diff(wantPollerJSON, got); diff != "" {
		t.Errorf("poller configuration of the reordered spec (-want +got):\n%s", diff)
	}
	var parsed map[string]any
	if err := json.Unmarshal([]byte(got), &parsed); err != nil {
		t.Errorf("the poller configuration is not a JSON object: %v", err)
	}
	hash := func(o *elementsv1alpha1.HubSpotInstance) string {
		return configurationHash(testKey, o, desiredInstance(o, resolved, identityWithout(o)))
	}
	if hash(reordered) != hash(obj) {
		t.Error("reordering the poller resources changed the configuration hash")
	}
	if hash(editedURL) == hash(obj) {
		t.Error("editing a poller url left the configuration hash unchanged")
	}
}

func TestConfigurationHash(t *testing.T) {
	obj := objectWith(oauth2)
	base := desiredInstance(obj, resolved, identityWithout(obj))
	baseHash := configurationHash(testKey, obj, base)
	if !strings.HasPrefix(baseHash, "hmac-sha256:") {
		t.Fatalf("hash %q lacks its algorithm", baseHash)
	}
	changed := func(change func(*ce.InstanceRequest)) ce.InstanceRequest {
		req := base
		req.Configuration = maps.Clone(base.Configuration)
		change(&req)
		return req
	}
	otherUID := obj.DeepCopy()
	otherUID.UID = "uid-2"
	cases := map[string]struct {
		obj      *elementsv1alpha1.HubSpotInstance
		req      ce.InstanceRequest
		wantSame bool
	}{
		"same request":                {obj, base, true},
		"providerData is not hashed":  {obj, changed(func(r *ce.InstanceRequest) { r.ProviderData = &ce.ProviderData{Code: "x"} }), true},
		"a rotated secret value":      {obj, changed(func(r *ce.InstanceRequest) { r.Configuration[ce.ConfigOAuthAPISecret] = "new" }), false},
		"a new configuration key":     {obj, changed(func(r *ce.InstanceRequest) { r.Configuration["k"] = "v" }), false},
		"a new name":                  {obj, changed(func(r *ce.InstanceRequest) { r.Name = "other" }), false},
		"another tag":                 {obj, changed(func(r *ce.InstanceRequest) { r.Tags = append(r.Tags, "x") }), false},
		"another object, same values": {otherUID, base, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if same := configurationHash(testKey, tc.obj, tc.req) == baseHash; same != tc.wantSame {
				t.Errorf("hash unchanged = %v, want %v", same, tc.wantSame)
			}
		})
	}
}

var testKey = []byte("0123456789abcdef0123456789abcdef")

// The hash in status must not let a viewer confirm a guess of a secret: it
// is keyed, so knowing the object and guessing every value does not
// reproduce it.
func TestConfigurationHashIsKeyed(t *testing.T) {
	obj := objectWith(apiKey)
	req := desiredInstance(obj, resolved, identityWithout(obj))
	body, _ := json.Marshal(req)
	sum := sha256.Sum256(append([]byte(obj.UID+"\n"), body...))
	unkeyed := "sha256:" + hex.EncodeToString(sum[:])
	got := configurationHash(testKey, obj, req)
	if strings.HasSuffix(got, unkeyed[len("sha256:"):]) {
		t.Fatal("the hash is the unkeyed digest a viewer can recompute from a guess")
	}
	if configurationHash([]byte("another key, another operator...."), obj, req) == got {
		t.Error("the hash does not depend on the key")
	}
	if authorizationHash(testKey, obj, "k") == authorizationHash([]byte("x"), obj, "k") {
		t.Error("the authorization hash does not depend on the key")
	}
}

// identityWithout is an object's identity when the operator runs without a
// cluster name: its owner tag alone.
func identityWithout(obj *elementsv1alpha1.HubSpotInstance) identity {
	return identity{nameTag: elementsv1alpha1.NameTag(obj.Namespace, obj.Name), incarnations: []string{obj.OwnerTag()}}
}
