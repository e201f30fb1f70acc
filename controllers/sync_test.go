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
	"testing"

	"github.com/google/go-cmp/cmp"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

func TestReauthorizationDue(t *testing.T) {
	const sent, fresh = "sha256:sent", "sha256:fresh"
	cases := map[string]struct {
		mode            elementsv1alpha1.AuthType
		valid           bool
		applied, atHand string
		want            bool
	}{
		"OAuth 2, a fresh code":                      {elementsv1alpha1.AuthTypeOAuth2, false, sent, fresh, true},
		"OAuth 2, the spent code":                    {elementsv1alpha1.AuthTypeOAuth2, false, sent, sent, false},
		"OAuth 2, no code":                           {elementsv1alpha1.AuthTypeOAuth2, false, sent, "", false},
		"Legacy, new tokens, healthy":                {elementsv1alpha1.AuthTypeOAuth2Legacy, true, sent, fresh, true},
		"Legacy, tokens Secret deleted":              {elementsv1alpha1.AuthTypeOAuth2Legacy, true, sent, "", false},
		"API key, new key, lapsed":                   {elementsv1alpha1.AuthTypeAPIKey, false, sent, fresh, true},
		"API key, new key, healthy: a plain update":  {elementsv1alpha1.AuthTypeAPIKey, true, sent, fresh, false},
		"API key, same key, lapsed: a person is due": {elementsv1alpha1.AuthTypeAPIKey, false, sent, sent, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := &session{authHash: tc.atHand, obj: &elementsv1alpha1.HubSpotInstance{
				Spec:   elementsv1alpha1.HubSpotInstanceSpec{Auth: elementsv1alpha1.AuthSpec{Type: tc.mode}},
				Status: elementsv1alpha1.HubSpotInstanceStatus{Valid: tc.valid, AppliedAuthorizationHash: tc.applied}}}
			if got := (&HubSpotInstanceReconciler{}).reauthorizationDue(s); got != tc.want {
				t.Errorf("reauthorizationDue = %v, want %v", got, tc.want)
			}
		})
	}
}

// The call syncInstance makes for a recorded instance: first match wins.
func TestDecideSync(t *testing.T) {
	type in struct{ accountChanged, reauthorizationDue, configurationChanged, requested, pollDue bool }
	for name, tc := range map[string]struct {
		in   in
		want syncCall
	}{
		"nothing to do":             {in{}, noCall},
		"a poll is due":             {in{pollDue: true}, poll},
		"a person asked":            {in{requested: true, pollDue: true}, lookOnRequest},
		"the configuration changed": {in{configurationChanged: true, requested: true, pollDue: true}, update},
		"a fresh authorization, configuration changed too": {in{reauthorizationDue: true, configurationChanged: true}, reauthorize},
		"new credentials: found before anything is sent":   {in{true, true, true, true, true}, lookWithNewCredentials},
		"new credentials, nothing else":                    {in{accountChanged: true}, lookWithNewCredentials},
		"a fresh authorization alone":                      {in{reauthorizationDue: true}, reauthorize},
		"a configuration change alone, no poll due":        {in{configurationChanged: true}, update},
		"a person asked while nothing else was due":        {in{requested: true}, lookOnRequest},
	} {
		got := decideSync(tc.in.accountChanged, tc.in.reauthorizationDue, tc.in.configurationChanged, tc.in.requested, tc.in.pollDue)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}
