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
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	v1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

// TestDefaultsMatchCRD keeps the Go defaults and the +kubebuilder:default
// markers in step: each getter, given the zero value, must return what the
// generated CRD defaults the field to.
func TestDefaultsMatchCRD(t *testing.T) {
	schema := loadSpecSchema(t)
	var zero v1.HubSpotInstanceSpec
	cases := map[string]struct {
		path   string
		goZero any
	}{
		"endpoint":                     {"platform.endpoint", zero.Platform.GetEndpoint()},
		"user secret key":              {"platform.credentialsSecretRef.userSecretKey", string(zero.Platform.CredentialsSecretRef.GetUserSecretKey())},
		"organization secret key":      {"platform.credentialsSecretRef.organizationSecretKey", string(zero.Platform.CredentialsSecretRef.GetOrganizationSecretKey())},
		"OAuth client id key":          {"auth.oauth2.clientSecretRef.clientIDKey", string(v1.OAuthClientSecretRef{}.GetClientIDKey())},
		"OAuth client secret key":      {"auth.oauth2.clientSecretRef.clientSecretKey", string(v1.OAuthClientSecretRef{}.GetClientSecretKey())},
		"legacy scopes":                {"auth.oauth2Legacy.scopes", toAny(v1.OAuth2LegacyAuth{}.GetScopes())},
		"legacy access token key":      {"auth.oauth2Legacy.tokensSecretRef.accessTokenKey", string(v1.LegacyTokensSecretRef{}.GetAccessTokenKey())},
		"legacy refresh token key":     {"auth.oauth2Legacy.tokensSecretRef.refreshTokenKey", string(v1.LegacyTokensSecretRef{}.GetRefreshTokenKey())},
		"legacy expires-in key":        {"auth.oauth2Legacy.tokensSecretRef.expiresInKey", string(v1.LegacyTokensSecretRef{}.GetExpiresInKey())},
		"events vendor type":           {"events.vendorType", string(v1.EventsSpec{}.GetVendorType())},
		"events poller interval (min)": {"events.pollerRefreshIntervalMinutes", float64(v1.EventsSpec{}.GetPollerRefreshIntervalMinutes())},
		"deletion policy":              {"deletionPolicy", string(zero.GetDeletionPolicy())},
		"poll interval":                {"pollInterval", zero.GetPollInterval().String()},
		"management policy":            {"managementPolicy", string(zero.GetManagementPolicy())},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			crdDefault := defaultAt(t, schema, tc.path)
			if d, ok := crdDefault.(string); ok && tc.path == "pollInterval" {
				parsed, err := time.ParseDuration(d)
				if err != nil {
					t.Fatalf("CRD default %q of %s: %v", d, tc.path, err)
				}
				crdDefault = parsed.String()
			}
			if diff := cmp.Diff(crdDefault, tc.goZero); diff != "" {
				t.Errorf("spec.%s: CRD default (-) differs from the Go default (+):\n%s", tc.path, diff)
			}
		})
	}
}

func TestGettersKeepSetValues(t *testing.T) {
	spec := v1.HubSpotInstanceSpec{
		Platform:         v1.PlatformSpec{Endpoint: "https://eu.example/elements/api-v2/"},
		DeletionPolicy:   v1.DeletionPolicyOrphan,
		ManagementPolicy: v1.ManagementPolicyObserveOnly,
	}
	got := []string{spec.Platform.GetEndpoint(), string(spec.GetDeletionPolicy()), string(spec.GetManagementPolicy()),
		v1.OAuth2LegacyAuth{Scopes: []string{"a"}}.GetScopes()[0],
		string(v1.EventsSpec{VendorType: v1.EventVendorTypeWebhook}.GetVendorType()),
		string(v1.EventsSpec{VendorType: v1.EventVendorTypeWebhooks}.GetVendorType())}
	want := []string{"https://eu.example/elements/api-v2", "Orphan", "ObserveOnly", "a", "webhook", "webhooks"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("getters changed set values (-want +got):\n%s", diff)
	}
}

func loadSpecSchema(t *testing.T) apiextensionsv1.JSONSchemaProps {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "config", "crd", "bases", "elements.cloud-elements.io_hubspotinstances.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.Unmarshal(raw, &crd); err != nil {
		t.Fatal(err)
	}
	return crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"]
}

func defaultAt(t *testing.T, schema apiextensionsv1.JSONSchemaProps, path string) any {
	t.Helper()
	for _, part := range strings.Split(path, ".") {
		next, ok := schema.Properties[part]
		if !ok {
			t.Fatalf("spec.%s: no such field in the CRD", path)
		}
		schema = next
	}
	if schema.Default == nil {
		t.Fatalf("spec.%s has no default in the CRD", path)
	}
	var v any
	if err := yaml.Unmarshal(schema.Default.Raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
