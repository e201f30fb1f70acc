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
	"strings"
	"testing"

	ce "github.com/hubspot-operator/hubspot-operator/internal/cloudelements"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

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

func TestDefaultEndpointAgreesWithClient(t *testing.T) {
	if elementsv1alpha1.DefaultEndpoint != ce.DefaultEndpoint {
		t.Errorf("API default endpoint %q, client default %q", elementsv1alpha1.DefaultEndpoint, ce.DefaultEndpoint)
	}
}
