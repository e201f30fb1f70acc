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

package v1alpha1_test

import (
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

const namespace = "validation"

// base returns a valid manifest for one auth mode; each case mutates a copy.
func base(mode string) map[string]any {
	spec := map[string]any{
		"platform": map[string]any{"credentialsSecretRef": map[string]any{"name": "cloud-elements"}},
	}
	switch mode {
	case "OAuth2":
		spec["auth"] = map[string]any{"type": "OAuth2", "oauth2": map[string]any{
			"clientSecretRef": map[string]any{"name": "hubspot-app"},
			"scopes":          []any{"contacts", "timeline"},
			"callbackURL":     "https://operator.example.com/oauth/callback",
		}}
	case "OAuth2Legacy":
		spec["auth"] = map[string]any{"type": "OAuth2Legacy", "oauth2Legacy": map[string]any{
			"clientIDSecretRef": map[string]any{"name": "hubspot-legacy", "key": "client-id"},
			"portalID":          "123456",
			"callbackURL":       "https://operator.example.com/oauth/callback",
			"tokensSecretRef":   map[string]any{"name": "hubspot-legacy-tokens"},
		}}
	default:
		spec["auth"] = map[string]any{"type": "APIKey", "apiKey": map[string]any{
			"secretRef": map[string]any{"name": "hubspot-key", "key": "api-key"},
		}}
	}
	return map[string]any{
		"apiVersion": "elements.cloud-elements.io/v1alpha1",
		"kind":       "HubSpotInstance",
		"metadata":   map[string]any{"name": "validation-case", "namespace": namespace},
		"spec":       spec,
	}
}

// set writes value at a dotted path under spec ("auth.oauth2.scopes").
func set(obj map[string]any, path string, value any) map[string]any {
	m := obj["spec"].(map[string]any)
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	if value == nil {
		delete(m, parts[len(parts)-1])
	} else {
		m[parts[len(parts)-1]] = value
	}
	return obj
}

func admit(obj map[string]any) error {
	u := &unstructured.Unstructured{Object: obj}
	return k8sClient.Create(ctx, u, client.DryRunAll, client.FieldValidation("Strict"))
}

// samples reads every HubSpotInstance in config/samples.
func samples() []map[string]any {
	files, err := filepath.Glob(filepath.Join("..", "..", "config", "samples", "elements_*.yaml"))
	Expect(err).NotTo(HaveOccurred())
	Expect(files).NotTo(BeEmpty())
	var out []map[string]any
	for _, f := range files {
		raw, err := os.ReadFile(f)
		Expect(err).NotTo(HaveOccurred())
		for _, doc := range strings.Split(string(raw), "\n---") {
			obj := map[string]any{}
			Expect(yaml.Unmarshal([]byte(doc), &obj)).To(Succeed())
			if obj["kind"] == "HubSpotInstance" {
				obj["metadata"].(map[string]any)["namespace"] = namespace
				out = append(out, obj)
			}
		}
	}
	return out
}

// pollerBlock is a poller shaped like the vendor's HubSpot polling example.
func pollerBlock() map[string]any {
	return map[string]any{
		"resources": []any{map[string]any{
			"name":    "contacts",
			"url":     "/hubs/crm/contacts?where=lastmodifieddate='${date}'",
			"idField": "vid",
			"datesConfiguration": map[string]any{
				"updatedDateField": "properties.lastmodifieddate", "updatedDateFormat": "milliseconds",
				"createdDateField": "properties.createdate", "createdDateFormat": "milliseconds",
			},
		}},
		"urls": []any{"contacts", "accounts"},
	}
}

var _ = Describe("HubSpotInstance admission", func() {
	BeforeEach(func() {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}
		Expect(client.IgnoreAlreadyExists(k8sClient.Create(ctx, ns))).To(Succeed())
	})

	It("accepts every sample in config/samples", func() {
		all := samples()
		Expect(all).To(HaveLen(3), "one sample per auth mode")
		for _, s := range all {
			Expect(admit(s)).To(Succeed(), "sample %v", s["metadata"])
		}
	})

	It("fills in the documented defaults", func() {
		u := &unstructured.Unstructured{Object: base("OAuth2Legacy")}
		Expect(k8sClient.Create(ctx, u, client.DryRunAll)).To(Succeed())
		spec := u.Object["spec"].(map[string]any)
		Expect(spec["platform"]).To(HaveKeyWithValue("endpoint", "https://api.cloud-elements.com/elements/api-v2"))
		Expect(spec).To(HaveKeyWithValue("deletionPolicy", "Delete"))
		Expect(spec).To(HaveKeyWithValue("managementPolicy", "Full"))
		Expect(spec).To(HaveKeyWithValue("pollInterval", "10m"))
		Expect(spec["platform"].(map[string]any)["credentialsSecretRef"]).To(And(
			HaveKeyWithValue("userSecretKey", "user-secret"), HaveKeyWithValue("organizationSecretKey", "organization-secret")))
		Expect(spec["auth"].(map[string]any)["oauth2Legacy"]).To(HaveKeyWithValue("scopes", []any{"contacts-rw", "offline"}))
	})

	DescribeTable("accepts valid variants",
		func(obj map[string]any) { Expect(admit(obj)).To(Succeed()) },
		Entry("API key, minimal", base("APIKey")),
		Entry("OAuth 2 with an out-of-band code", set(base("OAuth2"), "auth.oauth2.authorizationCodeSecretRef", map[string]any{"name": "hubspot-code", "key": "code"})),
		Entry("a loopback http endpoint (the simulator)", set(base("APIKey"), "platform.endpoint", "http://127.0.0.1:8090/elements/api-v2")),
		Entry("pollInterval of exactly 30s", set(base("APIKey"), "pollInterval", "30s")),
		Entry("pollInterval of 1h30m", set(base("APIKey"), "pollInterval", "1h30m")),
		Entry("events with a signature key", set(base("APIKey"), "events", map[string]any{
			"enabled": true, "callbackURL": "https://events.example.com/hook", "vendorType": "webhook",
			"signatureKeySecretRef": map[string]any{"name": "hubspot-events", "key": "signature-key"}})),
		Entry("events enabled without a callbackURL (the platform marks it optional)", set(base("APIKey"), "events", map[string]any{"enabled": true})),
		Entry("vendorType webhooks, the spelling of the vendor's HubSpot example", set(base("APIKey"), "events", map[string]any{
			"enabled": true, "vendorType": "webhooks", "callbackURL": "https://events.example.com/hook"})),
		Entry("a poller with resources and urls", set(base("APIKey"), "events", map[string]any{
			"enabled": true, "vendorType": "polling", "poller": pollerBlock()})),
		Entry("a poller with the vendor type left to its default", set(base("APIKey"), "events.poller", map[string]any{"urls": []any{"contacts"}})),
		Entry("a poller resource with only a url, and a where clause with a space", set(base("APIKey"), "events.poller", map[string]any{
			"resources": []any{map[string]any{"name": "shipments", "url": "/hubs/ecommerce/shipments?where=updated_at>='${gmtDate:yyyy-MM-dd HH:mm:ss}'"}}})),
		Entry("free configuration keys", set(base("APIKey"), "configuration", map[string]any{"filter.response.nulls": "false"})),
		Entry("managementPolicy ObserveOnly", set(base("APIKey"), "managementPolicy", "ObserveOnly")),
		Entry("managementPolicy Full", set(base("OAuth2"), "managementPolicy", "Full")),
		Entry("unicode tags", set(base("APIKey"), "tags", []any{"équipe-ventes", "営業"})),
		Entry("a token Secret template", set(base("APIKey"), "tokenSecret.template.data", map[string]any{
			"authorization": "User {{ .UserSecret }}, Organization {{ .OrganizationSecret }}, Element {{ .Token }}",
			"config.json":   `{"endpoint": {{ .Endpoint | toJson }}, "id": {{ .InstanceID }}, "host": "{{ .Endpoint | trimPrefix "https://" }}"}`,
			"app.env":       "TOKEN={{ .Token | quote }}\nELEMENT={{ .ElementKey | upper }}\n",
		})),
	)

	DescribeTable("rejects invalid manifests, naming the field at fault",
		func(obj map[string]any, wantField, wantMessage string) {
			err := admit(obj)
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(ContainSubstring(wantField))
			Expect(err.Error()).To(ContainSubstring(wantMessage))
		},
		Entry("auth.type missing", set(base("APIKey"), "auth.type", nil), "spec.auth.type", "Required value"),
		Entry("auth.type unknown", set(base("APIKey"), "auth.type", "Basic"), "spec.auth.type", `Unsupported value: "Basic"`),
		Entry("OAuth2 without its block", set(base("OAuth2"), "auth.oauth2", nil), "spec.auth.oauth2", "auth.oauth2 is required when auth.type is OAuth2"),
		Entry("OAuth2Legacy without its block", set(base("OAuth2Legacy"), "auth.oauth2Legacy", nil), "spec.auth.oauth2Legacy", "auth.oauth2Legacy is required when auth.type is OAuth2Legacy"),
		Entry("APIKey without its block", set(base("APIKey"), "auth.apiKey", nil), "spec.auth.apiKey", "auth.apiKey is required when auth.type is APIKey"),
		Entry("a second auth block", set(base("APIKey"), "auth.oauth2", base("OAuth2")["spec"].(map[string]any)["auth"].(map[string]any)["oauth2"]),
			"spec.auth.oauth2", "auth.oauth2 may only be set when auth.type is OAuth2"),
		Entry("OAuth2 scopes empty", set(base("OAuth2"), "auth.oauth2.scopes", []any{}), "spec.auth.oauth2.scopes", "at least 1 items"),
		Entry("OAuth2 scopes missing", set(base("OAuth2"), "auth.oauth2.scopes", nil), "spec.auth.oauth2.scopes", "Required value"),
		Entry("OAuth2 scope with a space", set(base("OAuth2"), "auth.oauth2.scopes", []any{"contacts timeline"}), "spec.auth.oauth2.scopes", "scopes must not contain whitespace"),
		Entry("OAuth2 callbackURL not a URL", set(base("OAuth2"), "auth.oauth2.callbackURL", "operator.example.com/cb"), "spec.auth.oauth2.callbackURL", "must be an absolute http:// or https:// URL"),
		Entry("OAuth2 callbackURL with another scheme", set(base("OAuth2"), "auth.oauth2.callbackURL", "ftp://example.com/cb"), "spec.auth.oauth2.callbackURL", "must be an absolute http:// or https:// URL"),
		Entry("legacy portalID with letters", set(base("OAuth2Legacy"), "auth.oauth2Legacy.portalID", "12ab"), "spec.auth.oauth2Legacy.portalID", "portalID must contain digits only"),
		Entry("legacy tokensSecretRef missing", set(base("OAuth2Legacy"), "auth.oauth2Legacy.tokensSecretRef", nil), "spec.auth.oauth2Legacy.tokensSecretRef", "Required value"),
		Entry("endpoint not a URL", set(base("APIKey"), "platform.endpoint", "api.cloud-elements.com"), "spec.platform.endpoint", "must be an absolute http:// or https:// URL"),
		Entry("credentialsSecretRef missing", set(base("APIKey"), "platform.credentialsSecretRef", nil), "spec.platform.credentialsSecretRef", "Required value"),
		Entry("Secret name with capitals and underscores", set(base("APIKey"), "platform.credentialsSecretRef.name", "Cloud_Elements"), "spec.platform.credentialsSecretRef.name", "must be a valid Secret name"),
		Entry("a Secret in another namespace", set(base("APIKey"), "platform.credentialsSecretRef.namespace", "kube-system"), "spec.platform.credentialsSecretRef.namespace", "unknown field"),
		Entry("Secret key with a slash", set(base("APIKey"), "auth.apiKey.secretRef.key", "api/key"), "spec.auth.apiKey.secretRef.key", "must be a valid Secret key"),
		Entry("Secret key missing", set(base("APIKey"), "auth.apiKey.secretRef.key", nil), "spec.auth.apiKey.secretRef.key", "Required value"),
		Entry("pollInterval under 30s", set(base("APIKey"), "pollInterval", "10s"), "spec.pollInterval", "at least 30s"),
		Entry("pollInterval not a duration", set(base("APIKey"), "pollInterval", "often"), "spec.pollInterval", "must be a duration"),
		Entry("reserved oauth.* configuration key", set(base("APIKey"), "configuration", map[string]any{"oauth.api.key": "x"}), "spec.configuration", "configuration key oauth.api.key is reserved"),
		Entry("reserved event.* configuration key", set(base("APIKey"), "configuration", map[string]any{"event.notification.enabled": "true"}), "spec.configuration", "configuration key event.notification.enabled is reserved"),
		Entry("reserved API key configuration key", set(base("APIKey"), "configuration", map[string]any{"hubspot.authorization.apikey": "x"}), "spec.configuration", "configuration key hubspot.authorization.apikey is reserved"),
		Entry("reserved authentication.type", set(base("APIKey"), "configuration", map[string]any{"authentication.type": "basic"}), "spec.configuration", "configuration key authentication.type is reserved"),
		Entry("reserved create.bulk.properties", set(base("APIKey"), "configuration", map[string]any{"create.bulk.properties": "true"}), "spec.configuration", "configuration key create.bulk.properties is reserved"),
		Entry("a template key that is no Secret key", set(base("APIKey"), "tokenSecret.template.data", map[string]any{"a/b": "{{ .Token }}"}),
			"spec.tokenSecret.template.data", "template keys must be valid Secret keys"),
		Entry("an empty template", set(base("APIKey"), "tokenSecret.template.data", map[string]any{}),
			"spec.tokenSecret.template.data", "at least 1 properties"),
		Entry("a template that does not parse", set(base("APIKey"), "tokenSecret.template.data", map[string]any{"token": "{{ .Token }"}),
			"spec.tokenSecret.template.data", "template of key token does not parse"),
		Entry("a template too long", set(base("APIKey"), "tokenSecret.template.data", map[string]any{"token": strings.Repeat("x", 8193)}),
			"spec.tokenSecret.template.data.token", "8192"),
		Entry("duplicate tags", set(base("APIKey"), "tags", []any{"team", "team"}), "spec.tags", "Duplicate value"),
		Entry("an empty tag", set(base("APIKey"), "tags", []any{""}), "spec.tags", "tags must be non-empty"),
		Entry("a whitespace-only tag", set(base("APIKey"), "tags", []any{"  "}), "spec.tags", "tags must be non-empty"),
		Entry("a tag using the owner-tag prefix", set(base("APIKey"), "tags", []any{v1alpha1.OwnerTagPrefix + "other/owner"}), "spec.tags", "reserved for the operator's owner tag"),
		Entry("an owner tag behind markup the platform strips", set(base("APIKey"), "tags", []any{"<i></i>" + v1alpha1.OwnerTagPrefix + "ns-b/crm/5f1b7c1e-0000-4000-8000-000000000001"}), "spec.tags", "must not contain '<'"),
		Entry("a comment before an owner tag", set(base("APIKey"), "tags", []any{"<!-- -->k8s:ns-b/crm/uid"}), "spec.tags", "must not contain '<'"),
		Entry("an entity in a tag", set(base("APIKey"), "tags", []any{"a&lt;b"}), "spec.tags", "must not contain '<'"),
		Entry("deletionPolicy unknown", set(base("APIKey"), "deletionPolicy", "Keep"), "spec.deletionPolicy", `Unsupported value: "Keep"`),
		Entry("managementPolicy unknown", set(base("APIKey"), "managementPolicy", "Observe"), "spec.managementPolicy", `Unsupported value: "Observe"`),
		Entry("managementPolicy in the wrong case", set(base("APIKey"), "managementPolicy", "observeOnly"), "spec.managementPolicy", `Unsupported value: "observeOnly"`),
		Entry("managementPolicy as a boolean", set(base("APIKey"), "managementPolicy", true), "spec.managementPolicy", "must be of type string"),
		Entry("events callbackURL not a URL", set(base("APIKey"), "events", map[string]any{"enabled": true, "callbackURL": "events.example.com"}), "spec.events.callbackURL", "must be an absolute http:// or https:// URL"),
		Entry("a poller with vendorType webhook", set(base("APIKey"), "events", map[string]any{"vendorType": "webhook", "poller": pollerBlock()}),
			"spec.events.poller", "events.poller may only be set when events.vendorType is polling"),
		Entry("a poller with vendorType webhooks", set(base("APIKey"), "events", map[string]any{"vendorType": "webhooks", "poller": pollerBlock()}),
			"spec.events.poller", "events.poller may only be set when events.vendorType is polling"),
		Entry("an empty poller", set(base("APIKey"), "events.poller", map[string]any{}), "spec.events.poller", "events.poller must set resources, urls or both"),
		Entry("a poller with an empty resources list", set(base("APIKey"), "events.poller", map[string]any{"resources": []any{}}), "spec.events.poller.resources", "at least 1 items"),
		Entry("33 poller resources", set(base("APIKey"), "events.poller", map[string]any{"resources": func() []any {
			var out []any
			for i := range 33 {
				out = append(out, map[string]any{"name": "r" + strings.Repeat("x", i), "url": "/hubs/crm/contacts"})
			}
			return out
		}()}), "spec.events.poller.resources", "must have at most 32 items"),
		Entry("a poller resource without a url", set(base("APIKey"), "events.poller", map[string]any{"resources": []any{map[string]any{"name": "contacts"}}}),
			"spec.events.poller.resources[0].url", "Required value"),
		Entry("a poller resource url that is an absolute URL", set(base("APIKey"), "events.poller", map[string]any{"resources": []any{
			map[string]any{"name": "contacts", "url": "https://api.hubapi.com/contacts/v1/lists/all/contacts/all"}}}),
			"spec.events.poller.resources[0].url", "events.poller.resources[].url must be a path on the element's API starting with '/'"),
		Entry("a poller resource url over two lines", set(base("APIKey"), "events.poller", map[string]any{"resources": []any{
			map[string]any{"name": "contacts", "url": "/hubs/crm/contacts\n/hubs/crm/accounts"}}}),
			"spec.events.poller.resources[0].url", "events.poller.resources[].url must be a path on the element's API starting with '/'"),
		Entry("a poller resource name with a space", set(base("APIKey"), "events.poller", map[string]any{"resources": []any{
			map[string]any{"name": "my contacts", "url": "/hubs/crm/contacts"}}}),
			"spec.events.poller.resources[0].name", "events.poller.resources[].name must not contain whitespace"),
		Entry("two poller resources with one name", set(base("APIKey"), "events.poller", map[string]any{"resources": []any{
			map[string]any{"name": "contacts", "url": "/hubs/crm/contacts"}, map[string]any{"name": "contacts", "url": "/hubs/crm/accounts"}}}),
			"spec.events.poller.resources[1]", "Duplicate value"),
		Entry("a poller resource with an unknown field", set(base("APIKey"), "events.poller", map[string]any{"resources": []any{
			map[string]any{"name": "contacts", "url": "/hubs/crm/contacts", "idfield": "vid"}}}),
			"spec.events.poller.resources[0].idfield", "unknown field"),
		Entry("a poller dates format too long", set(base("APIKey"), "events.poller", map[string]any{"resources": []any{
			map[string]any{"name": "contacts", "url": "/hubs/crm/contacts", "datesConfiguration": map[string]any{"updatedDateFormat": strings.Repeat("y", 129)}}}}),
			"spec.events.poller.resources[0].datesConfiguration.updatedDateFormat", "Too long"),
		Entry("poller urls joined into one entry", set(base("APIKey"), "events.poller", map[string]any{"urls": []any{"contacts\naccounts"}}),
			"spec.events.poller.urls", "events.poller.urls entries must be single lines"),
		Entry("a poller urls entry with a trailing space", set(base("APIKey"), "events.poller", map[string]any{"urls": []any{"contacts "}}),
			"spec.events.poller.urls", "events.poller.urls entries must be single lines"),
		Entry("duplicate poller urls", set(base("APIKey"), "events.poller", map[string]any{"urls": []any{"contacts", "contacts"}}),
			"spec.events.poller.urls[1]", "Duplicate value"),
		Entry("events vendorType unknown", set(base("APIKey"), "events", map[string]any{"vendorType": "push"}), "spec.events.vendorType", `Unsupported value: "push"`),
		Entry("events objects with a comma", set(base("APIKey"), "events", map[string]any{"objects": []any{"contacts,deals"}}), "spec.events.objects", "without spaces or commas"),
		Entry("events poll interval of zero", set(base("APIKey"), "events", map[string]any{"pollerRefreshIntervalMinutes": 0}), "spec.events.pollerRefreshIntervalMinutes", "should be greater than or equal to 1"),
		Entry("a blank instanceName", set(base("APIKey"), "instanceName", "   "), "spec.instanceName", "instanceName must not be blank"),
		Entry("createBulkProperties as a string", set(base("APIKey"), "auth.apiKey.createBulkProperties", "yes"), "spec.auth.apiKey.createBulkProperties", "must be of type boolean"),
		Entry("a name too long to derive Secret names from", func() map[string]any {
			obj := base("APIKey")
			obj["metadata"].(map[string]any)["name"] = strings.Repeat("a", 240)
			return obj
		}(), "metadata.name", "at most 239 characters"),
		Entry("tokenSecret name invalid", set(base("APIKey"), "tokenSecret.name", "-token"), "spec.tokenSecret.name", "must be a valid Secret name"),
	)
})
