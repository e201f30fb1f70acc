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
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/event"

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

func TestSecretMatches(t *testing.T) {
	desired := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"l": "1"}, Annotations: map[string]string{"a": "1"}},
		Data: map[string][]byte{elementsv1alpha1.TokenKey: []byte("tok")}}
	with := func(change func(*corev1.Secret)) *corev1.Secret {
		s := desired.DeepCopy()
		change(s)
		return s
	}
	cases := map[string]struct {
		current *corev1.Secret
		want    bool
	}{
		"identical":                  {desired, true},
		"extra data, labels is fine": {with(func(s *corev1.Secret) { s.Data["x"] = []byte("y"); s.Labels["x"] = "y" }), true},
		"token edited":               {with(func(s *corev1.Secret) { s.Data[elementsv1alpha1.TokenKey] = []byte("other") }), false},
		"token removed":              {with(func(s *corev1.Secret) { delete(s.Data, elementsv1alpha1.TokenKey) }), false},
		"label changed":              {with(func(s *corev1.Secret) { s.Labels["l"] = "2" }), false},
		"annotation removed":         {with(func(s *corev1.Secret) { delete(s.Annotations, "a") }), false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := secretMatches(tc.current, desired); got != tc.want {
				t.Errorf("secretMatches = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCheckEndpoint(t *testing.T) {
	def := DefaultEndpointPolicy()
	loopback := EndpointPolicy{AllowLoopback: true}
	insecure := EndpointPolicy{AllowedHosts: []string{"ce.example"}, AllowInsecure: true}
	cases := map[string]struct {
		endpoint string
		policy   EndpointPolicy
		wantErr  string
	}{
		"the public API":                     {"https://api.cloud-elements.com/elements/api-v2", def, ""},
		"the public API, any case":           {"https://API.Cloud-Elements.com/elements/api-v2", def, ""},
		"SAP Open Connectors":                {"https://api.openconnectors.us2.ext.hana.ondemand.com/elements/api-v2", def, ""},
		"a host off the list":                {"https://collector.attacker.example/elements/api-v2", def, `"collector.attacker.example" is not allowed`},
		"a lookalike suffix":                 {"https://api.cloud-elements.com.attacker.example/", def, "is not allowed"},
		"loopback, not allowed":              {"http://127.0.0.1:8090/elements/api-v2", def, "need --allow-loopback-endpoints"},
		"loopback 127.0.0.1, allowed":        {"http://127.0.0.1:8090/elements/api-v2", loopback, ""},
		"localhost, allowed":                 {"http://localhost:1/elements/api-v2", loopback, ""},
		"::1, allowed":                       {"https://[::1]:8443/elements/api-v2", loopback, ""},
		"a lookalike of localhost":           {"http://localhost.attacker.example/", loopback, "is not allowed"},
		"http to an allowed host":            {"http://api.cloud-elements.com/elements/api-v2", def, "over plain http"},
		"http to an allowed host, permitted": {"http://ce.example/elements/api-v2", insecure, ""},
		"credentials in the URL":             {"https://user:pw@api.cloud-elements.com/", def, "without credentials"},
		"not a URL":                          {"::", def, "is not an absolute http(s) URL"},
		"no host":                            {"https:///elements", def, "is not an absolute http(s) URL"},
		"another scheme":                     {"ftp://api.cloud-elements.com/", def, "is not an absolute http(s) URL"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := checkEndpoint(tc.endpoint, tc.policy)
			got := ""
			if err != nil {
				got = err.Error()
				if p := policyOf(err); !p.Stalled || p.Reason != elementsv1alpha1.ReasonInvalidConfiguration {
					t.Errorf("policy %+v, want a stalled InvalidConfiguration", p)
				}
				if strings.Contains(got, "pw") {
					t.Errorf("the message repeats a password: %s", got)
				}
			}
			if (tc.wantErr == "") != (got == "") || !strings.Contains(got, tc.wantErr) {
				t.Errorf("checkEndpoint(%q) = %q, want an error containing %q", tc.endpoint, got, tc.wantErr)
			}
		})
	}
}

func TestWatchPredicates(t *testing.T) {
	obj := func(annotations map[string]string, deleting bool) *elementsv1alpha1.HubSpotInstance {
		o := &elementsv1alpha1.HubSpotInstance{ObjectMeta: metav1.ObjectMeta{Annotations: annotations}}
		if deleting {
			o.DeletionTimestamp = &metav1.Time{Time: time.Unix(1, 0)}
		}
		return o
	}
	pending := map[string]string{elementsv1alpha1.CreatePendingAnnotation: "2026-01-01T00:00:00Z"}
	requested := map[string]string{elementsv1alpha1.ReconcileRequestAnnotation: "now"}
	cases := map[string]struct {
		old, new                    *elementsv1alpha1.HubSpotInstance
		wantAnnotations, wantDelete bool
	}{
		"nothing changed":                  {obj(nil, false), obj(nil, false), false, false},
		"our own create-pending marker":    {obj(nil, false), obj(pending, false), false, false},
		"create-pending marker cleared":    {obj(pending, false), obj(nil, false), false, false},
		"a reconcile request":              {obj(nil, false), obj(requested, false), true, false},
		"an import annotation":             {obj(nil, false), obj(map[string]string{elementsv1alpha1.InstanceIDAnnotation: "7"}, false), true, false},
		"deletion starts":                  {obj(nil, false), obj(nil, true), false, true},
		"already deleting, another update": {obj(nil, true), obj(nil, true), false, false},
		"deletion protection lifted while deleting": {obj(map[string]string{elementsv1alpha1.DeletionProtectionAnnotation: "true"}, true),
			obj(nil, true), true, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := event.UpdateEvent{ObjectOld: tc.old, ObjectNew: tc.new}
			if got := annotationsChanged().Update(e); got != tc.wantAnnotations {
				t.Errorf("annotationsChanged = %v, want %v", got, tc.wantAnnotations)
			}
			if got := deletionStarted().Update(e); got != tc.wantDelete {
				t.Errorf("deletionStarted = %v, want %v", got, tc.wantDelete)
			}
		})
	}
}

func TestDefaultEndpointAgreesWithClient(t *testing.T) {
	if elementsv1alpha1.DefaultEndpoint != ce.DefaultEndpoint {
		t.Errorf("API default endpoint %q, client default %q", elementsv1alpha1.DefaultEndpoint, ce.DefaultEndpoint)
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

func TestNotOurProtection(t *testing.T) {
	secretWith := func(rv string, finalizers ...string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "creds", ResourceVersion: rv, Finalizers: finalizers}}
	}
	key := types.NamespacedName{Namespace: "ns", Name: "creds"}
	ours := elementsv1alpha1.CredentialsInUseFinalizer
	cases := map[string]struct {
		announced string // the version a write of ours started from; "" for none
		old, new  *corev1.Secret
		want      bool
	}{
		"data changed (only the resourceVersion shows)":        {"", secretWith("1"), secretWith("2"), true},
		"our protection added":                                 {"1", secretWith("1"), secretWith("2", ours), false},
		"our protection removed":                               {"1", secretWith("1", ours), secretWith("2"), false},
		"data changed on a protected Secret":                   {"", secretWith("1", ours), secretWith("2", ours), true},
		"replaced wholesale: data and our finalizer in one go": {"", secretWith("1", ours), secretWith("2"), true},
		"our finalizer toggled by a write of somebody else's":  {"7", secretWith("1", ours), secretWith("2"), true},
		"another finalizer dropped with new data":              {"", secretWith("1", "example.com/x"), secretWith("2"), true},
		"our write announced, but another finalizer moved too": {"1", secretWith("1", "example.com/x"), secretWith("2", ours), true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			writes := newProtectionWrites()
			if tc.announced != "" {
				writes.expect(key, tc.announced)
			}
			if got := notOurProtection(writes).Update(event.UpdateEvent{ObjectOld: tc.old, ObjectNew: tc.new}); got != tc.want {
				t.Errorf("notOurProtection = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMayReleaseCredentials(t *testing.T) {
	base := func(edit func(*elementsv1alpha1.HubSpotInstance)) *elementsv1alpha1.HubSpotInstance {
		obj := &elementsv1alpha1.HubSpotInstance{}
		obj.Finalizers = []string{elementsv1alpha1.Finalizer}
		obj.Spec.Platform.CredentialsSecretRef.Name = "cloud-elements"
		if edit != nil {
			edit(obj)
		}
		return obj
	}
	cases := map[string]struct {
		after  *elementsv1alpha1.HubSpotInstance
		want   bool
		before *elementsv1alpha1.HubSpotInstance // base(nil) when nil
	}{
		"a status or marker write": {base(func(o *elementsv1alpha1.HubSpotInstance) { o.Status.Valid = true }), false, nil},
		"the finalizer added, taking the protection on": {base(nil), false,
			base(func(o *elementsv1alpha1.HubSpotInstance) { o.Finalizers = nil })},
		"a tag added": {base(func(o *elementsv1alpha1.HubSpotInstance) { o.Spec.Tags = []string{"x"} }), false, nil},
		"its finalizer removed as it is deleted": {base(func(o *elementsv1alpha1.HubSpotInstance) {
			o.Finalizers, o.DeletionTimestamp = nil, &metav1.Time{Time: time.Now()}
		}), true, base(func(o *elementsv1alpha1.HubSpotInstance) { o.DeletionTimestamp = &metav1.Time{Time: time.Now()} })},
		"its finalizer removed, still alive: it may create again": {base(func(o *elementsv1alpha1.HubSpotInstance) { o.Finalizers = nil }), false, nil},
		"deletion policy to Orphan": {base(func(o *elementsv1alpha1.HubSpotInstance) {
			o.Spec.DeletionPolicy = elementsv1alpha1.DeletionPolicyOrphan
		}), true, nil},
		"another credentials Secret": {base(func(o *elementsv1alpha1.HubSpotInstance) { o.Spec.Platform.CredentialsSecretRef.Name = "other" }), true, nil},
		"ObserveOnly: nothing left to delete": {base(func(o *elementsv1alpha1.HubSpotInstance) {
			o.Spec.ManagementPolicy = elementsv1alpha1.ManagementPolicyObserveOnly
		}), true, nil},
		"managementPolicy spelled out as Full": {base(func(o *elementsv1alpha1.HubSpotInstance) {
			o.Spec.ManagementPolicy = elementsv1alpha1.ManagementPolicyFull
		}), false, nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			before := tc.before
			if before == nil {
				before = base(nil)
			}
			if got := mayReleaseCredentials(before, tc.after); got != tc.want {
				t.Errorf("mayReleaseCredentials = %t, want %t", got, tc.want)
			}
		})
	}
}

// identityWithout is an object's identity when the operator runs without a
// cluster name: its owner tag alone.
func identityWithout(obj *elementsv1alpha1.HubSpotInstance) identity {
	return identity{nameTag: elementsv1alpha1.NameTag(obj.Namespace, obj.Name), incarnations: []string{obj.OwnerTag()}}
}
