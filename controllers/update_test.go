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
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
)

func TestConfigurationChanges(t *testing.T) {
	masked := cloudelements.MaskedValue
	cases := map[string]struct {
		current, desired map[string]string
		want             map[string]string
	}{
		"nothing differs": {
			current: map[string]string{"oauth.scope": "crm.objects.contacts.read", "filter.response.nulls": "true"},
			desired: map[string]string{"oauth.scope": "crm.objects.contacts.read", "filter.response.nulls": "true"},
			want:    map[string]string{},
		},
		"a changed value": {
			current: map[string]string{"filter.response.nulls": "true"},
			desired: map[string]string{"filter.response.nulls": "false"},
			want:    map[string]string{"filter.response.nulls": "false"},
		},
		"a key the platform lacks": {
			current: map[string]string{},
			desired: map[string]string{"event.objects": "contacts"},
			want:    map[string]string{"event.objects": "contacts"},
		},
		"a masked value cannot be compared, so it is sent again": {
			current: map[string]string{"oauth.api.secret": masked, "oauth.api.key": masked},
			desired: map[string]string{"oauth.api.secret": "s", "oauth.api.key": "id"},
			want:    map[string]string{"oauth.api.secret": "s", "oauth.api.key": "id"},
		},
		"the provider's tokens are never touched": {
			current: map[string]string{"oauth.user.token": masked, "oauth.user.refresh_token": masked, "oauth.scope": "a"},
			desired: map[string]string{"oauth.scope": "b"},
			want:    map[string]string{"oauth.scope": "b"},
		},
		"events turned off: the operator's event keys are reset": {
			current: map[string]string{"event.notification.enabled": "true", "event.vendor.type": "polling", "event.objects": "contacts"},
			desired: map[string]string{"event.notification.enabled": "false"},
			want:    map[string]string{"event.notification.enabled": "false", "event.vendor.type": "", "event.objects": ""},
		},
		"events block removed: events are switched off": {
			current: map[string]string{"event.notification.enabled": "true"},
			desired: map[string]string{},
			want:    map[string]string{"event.notification.enabled": "false"},
		},
		"events already off and empty: nothing to reset": {
			current: map[string]string{"event.notification.enabled": "false", "event.vendor.type": ""},
			desired: map[string]string{},
			want:    map[string]string{},
		},
		"a user key dropped from the spec is kept": {
			current: map[string]string{"filter.response.nulls": "false"},
			desired: map[string]string{},
			want:    map[string]string{},
		},
		"typed values read back as their text compare equal": {
			current: map[string]string{"event.poller.refresh_interval": "15", "event.notification.enabled": "true"},
			desired: map[string]string{"event.poller.refresh_interval": "15", "event.notification.enabled": "true"},
			want:    map[string]string{},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, configurationChanges(tc.current, tc.desired)); diff != "" {
				t.Errorf("configurationChanges (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigurationUpdates(t *testing.T) {
	entries := []cloudelements.ConfigurationEntry{
		{ID: 11, Key: "oauth.scope", PropertyValue: "a"},
		{ID: 12, Key: "filter.response.nulls", PropertyValue: "true"},
		{ID: 13, Key: "oauth.user.token", PropertyValue: cloudelements.MaskedValue},
		{ID: 0, Key: "listed.without.id"},
	}
	cases := map[string]struct {
		changes     map[string]string
		wantUpdates []cloudelements.ConfigurationEntry
		wantMissing []string
	}{
		"none": {changes: map[string]string{}},
		"each change by its key's id, in key order": {
			changes: map[string]string{"oauth.scope": "b", "filter.response.nulls": "false"},
			wantUpdates: []cloudelements.ConfigurationEntry{
				{ID: 12, Key: "filter.response.nulls", PropertyValue: "false"},
				{ID: 11, Key: "oauth.scope", PropertyValue: "b"},
			},
		},
		"keys the platform does not list, or lists without an id, are missing": {
			changes:     map[string]string{"oauth.scope": "b", "no.such.key": "x", "listed.without.id": "y"},
			wantUpdates: []cloudelements.ConfigurationEntry{{ID: 11, Key: "oauth.scope", PropertyValue: "b"}},
			wantMissing: []string{"listed.without.id", "no.such.key"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			updates, missing := configurationUpdates(entries, tc.changes)
			if diff := cmp.Diff(tc.wantUpdates, updates, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("updates (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantMissing, missing, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("missing (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNameAndTagsPatch(t *testing.T) {
	name := func(s string) *string { return &s }
	desired := cloudelements.InstanceRequest{Name: "ns-app", Tags: []string{"a", "b", "k8s:ns/app/uid"}}
	cases := map[string]struct {
		current cloudelements.Instance
		want    *cloudelements.InstancePatch
	}{
		"same name and tags": {
			current: cloudelements.Instance{Name: "ns-app", Tags: []string{"a", "b", "k8s:ns/app/uid"}},
		},
		"same tags in another order": {
			current: cloudelements.Instance{Name: "ns-app", Tags: []string{"k8s:ns/app/uid", "b", "a"}},
		},
		"a tag added": {
			current: cloudelements.Instance{Name: "ns-app", Tags: []string{"a", "k8s:ns/app/uid"}},
			want:    &cloudelements.InstancePatch{Name: name("ns-app"), Tags: desired.Tags},
		},
		"renamed": {
			current: cloudelements.Instance{Name: "old", Tags: desired.Tags},
			want:    &cloudelements.InstancePatch{Name: name("ns-app"), Tags: desired.Tags},
		},
	}
	for n, tc := range cases {
		t.Run(n, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, nameAndTagsPatch(&tc.current, desired)); diff != "" {
				t.Errorf("nameAndTagsPatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHoldsProviderTokens(t *testing.T) {
	got := map[elementsv1alpha1.AuthType]bool{}
	for _, mode := range []elementsv1alpha1.AuthType{elementsv1alpha1.AuthTypeOAuth2, elementsv1alpha1.AuthTypeOAuth2Legacy, elementsv1alpha1.AuthTypeAPIKey} {
		got[mode] = holdsProviderTokens(mode)
	}
	want := map[elementsv1alpha1.AuthType]bool{
		elementsv1alpha1.AuthTypeOAuth2: true, elementsv1alpha1.AuthTypeOAuth2Legacy: true, elementsv1alpha1.AuthTypeAPIKey: false,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("holdsProviderTokens (-want +got):\n%s", diff)
	}
}

func TestBoundRateLimit(t *testing.T) {
	limited := &cloudelements.APIError{StatusCode: 429, RetryAfter: time.Second}
	wrapped := classifyAPIError("creating", limited)
	waitAsTold := policy{Reason: elementsv1alpha1.ReasonRateLimited, RetryAfter: time.Second}
	refused := policy{Reason: elementsv1alpha1.ReasonRateLimited, Stalled: true, FromPlatform: true}
	cases := map[string]struct {
		err    error
		streak int
		want   policy
	}{
		"first 429 waits as told":            {wrapped, 1, waitAsTold},
		"one short of the bound still waits": {wrapped, maxRateLimitedTries - 1, waitAsTold},
		"at the bound it is a refusal":       {wrapped, maxRateLimitedTries, refused},
		"past the bound it stays one":        {wrapped, maxRateLimitedTries + 5, refused},
		"a 503 is never a refusal":           {classifyAPIError("x", apiError(503)), maxRateLimitedTries, policy{Reason: elementsv1alpha1.ReasonAPIUnavailable}},
		"our own limiter is not the endpoint": {
			transientError(elementsv1alpha1.ReasonAPIUnavailable, fmt.Errorf("x: %w", cloudelements.ErrClientRateLimited)),
			maxRateLimitedTries, policy{Reason: elementsv1alpha1.ReasonAPIUnavailable}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, policyOf(boundRateLimit(tc.err, tc.streak))); diff != "" {
				t.Errorf("boundRateLimit (-want +got):\n%s", diff)
			}
		})
	}
	if err := boundRateLimit(nil, maxRateLimitedTries); err != nil {
		t.Errorf("boundRateLimit(nil) = %v", err)
	}
	if !errors.Is(boundRateLimit(wrapped, maxRateLimitedTries), limited) {
		t.Error("the refusal does not wrap the 429")
	}
}
