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

	"github.com/google/go-cmp/cmp"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
)

func TestObservedDrift(t *testing.T) {
	masked := cloudelements.MaskedValue
	owner := elementsv1alpha1.OwnerTagPrefix + "ns/obj/uid"
	desired := cloudelements.InstanceRequest{
		Name: "ns-sales",
		Tags: []string{"team-sales", owner, elementsv1alpha1.ManagedTag},
		Configuration: map[string]string{
			"authentication.type":          "apiKey",
			"hubspot.authorization.apikey": "k",
			"filter.response.nulls":        "true",
		},
	}
	matching := cloudelements.Instance{
		Name: "ns-sales",
		Tags: []string{"team-sales"},
		Configuration: map[string]string{
			"authentication.type":          "apiKey",
			"hubspot.authorization.apikey": masked,
			"filter.response.nulls":        "true",
			"oauth.user.token":             masked,
		},
	}
	with := func(change func(*cloudelements.Instance)) cloudelements.Instance {
		inst := matching
		inst.Tags = append([]string(nil), matching.Tags...)
		inst.Configuration = map[string]string{}
		for k, v := range matching.Configuration {
			inst.Configuration[k] = v
		}
		change(&inst)
		return inst
	}
	wanting := func(change func(*cloudelements.InstanceRequest)) cloudelements.InstanceRequest {
		req := desired
		req.Configuration = map[string]string{}
		for k, v := range desired.Configuration {
			req.Configuration[k] = v
		}
		change(&req)
		return req
	}
	cases := map[string]struct {
		inst    cloudelements.Instance
		desired cloudelements.InstanceRequest
		want    []string
	}{
		"as the spec says: masked secrets and the operator's own tags are not compared": {matching, desired, nil},
		"renamed": {with(func(i *cloudelements.Instance) { i.Name = "Sales (old)" }), desired,
			[]string{`name: "Sales (old)" at Cloud Elements, "ns-sales" in the spec`}},
		"tags in another order": {with(func(i *cloudelements.Instance) { i.Tags = []string{"team-sales", "team-sales"} }), desired, nil},
		"a tag missing and one extra": {with(func(i *cloudelements.Instance) { i.Tags = []string{"legacy", "zeta"} }), desired,
			[]string{"tags: missing team-sales; not in the spec legacy, zeta"}},
		"another object's owner tag is none of the drift's business": {with(func(i *cloudelements.Instance) {
			i.Tags = append(i.Tags, elementsv1alpha1.OwnerTagPrefix+"other/x/y")
		}), desired, nil},
		"a value changed: named, never shown": {with(func(i *cloudelements.Instance) { i.Configuration["filter.response.nulls"] = "false" }), desired,
			[]string{"configuration filter.response.nulls: differs"}},
		"a key the platform lacks": {with(func(i *cloudelements.Instance) { delete(i.Configuration, "filter.response.nulls") }), desired,
			[]string{"configuration filter.response.nulls: not set at Cloud Elements"}},
		"a user key the spec leaves out is kept by Full too, so no drift": {with(func(i *cloudelements.Instance) { i.Configuration["x.y"] = "1" }), desired, nil},
		"events on at the platform, off in the spec": {with(func(i *cloudelements.Instance) {
			i.Configuration["event.notification.enabled"] = "true"
			i.Configuration["event.objects"] = "contacts"
		}), desired, []string{"configuration event.notification.enabled: set at Cloud Elements, not in the spec",
			"configuration event.objects: set at Cloud Elements, not in the spec"}},
		"a value the operator could not read is not compared": {with(func(i *cloudelements.Instance) { i.Configuration["oauth.api.key"] = "their-client" }),
			wanting(func(r *cloudelements.InstanceRequest) { r.Configuration["oauth.api.key"] = "" }), nil},
		"a value read in clear is compared": {with(func(i *cloudelements.Instance) { i.Configuration["oauth.api.key"] = "their-client" }),
			wanting(func(r *cloudelements.InstanceRequest) { r.Configuration["oauth.api.key"] = "our-client" }),
			[]string{"configuration oauth.api.key: differs"}},
		"everything at once, in a stable order": {with(func(i *cloudelements.Instance) {
			i.Name = "x"
			i.Tags = nil
			i.Configuration["filter.response.nulls"] = "false"
			i.Configuration["authentication.type"] = "oauth2"
		}), desired, []string{`name: "x" at Cloud Elements, "ns-sales" in the spec`, "tags: missing team-sales",
			"configuration authentication.type: differs", "configuration filter.response.nulls: differs"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := observedDrift(&tc.inst, tc.desired)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("observedDrift (-want +got):\n%s", diff)
			}
			for _, line := range got {
				if strings.Contains(line, "their-client") || strings.Contains(line, "our-client") {
					t.Errorf("a configuration value reached status: %q", line)
				}
			}
		})
	}
}

func TestObservationOutcome(t *testing.T) {
	observed := func(change func(*elementsv1alpha1.HubSpotInstanceStatus)) *elementsv1alpha1.HubSpotInstance {
		obj := &elementsv1alpha1.HubSpotInstance{}
		obj.Name = "sales"
		obj.Spec.ManagementPolicy = elementsv1alpha1.ManagementPolicyObserveOnly
		obj.Status = elementsv1alpha1.HubSpotInstanceStatus{InstanceID: 7, Valid: true, TokenSecretName: "sales-element-token"}
		change(&obj.Status)
		return obj
	}
	type verdict struct {
		Ready, Stalled bool
		Reason         string
	}
	cases := map[string]struct {
		obj         *elementsv1alpha1.HubSpotInstance
		want        verdict
		wantMessage []string
	}{
		"as the spec says": {observed(func(*elementsv1alpha1.HubSpotInstanceStatus) {}),
			verdict{Ready: true, Reason: elementsv1alpha1.ReasonAvailable},
			[]string{"element instance 7", "sales-element-token", "ObserveOnly"}},
		"drifted": {observed(func(st *elementsv1alpha1.HubSpotInstanceStatus) {
			st.Drift = []string{"tags: missing a", "configuration b: differs"}
		}),
			verdict{Stalled: true, Reason: elementsv1alpha1.ReasonInstanceDrifted},
			[]string{"element instance 7", "tags: missing a; configuration b: differs", "managementPolicy"}},
		"disabled": {observed(func(st *elementsv1alpha1.HubSpotInstanceStatus) { st.Disabled = true }),
			verdict{Stalled: true, Reason: elementsv1alpha1.ReasonInstanceDisabled},
			[]string{"disabled", "ObserveOnly", "enable it"}},
		"invalid, and disabled, and drifted: the invalid one first": {observed(func(st *elementsv1alpha1.HubSpotInstanceStatus) {
			st.Valid, st.Disabled, st.Drift = false, true, []string{"tags: missing a"}
		}), verdict{Stalled: true, Reason: elementsv1alpha1.ReasonReauthorizationRequired},
			[]string{"invalid", "ObserveOnly", "re-authorize it"}},
		"disabled and drifted": {observed(func(st *elementsv1alpha1.HubSpotInstanceStatus) { st.Disabled, st.Drift = true, []string{"x"} }),
			verdict{Stalled: true, Reason: elementsv1alpha1.ReasonInstanceDisabled}, nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out := observationOutcome(tc.obj)
			if diff := cmp.Diff(tc.want, verdict{Ready: out.ready, Stalled: out.stalled, Reason: out.reason}); diff != "" {
				t.Errorf("observationOutcome (-want +got):\n%s", diff)
			}
			for _, part := range tc.wantMessage {
				if !strings.Contains(out.message, part) {
					t.Errorf("message %q does not say %q", out.message, part)
				}
			}
		})
	}
}
