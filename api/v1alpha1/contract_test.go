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
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	v1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

// TestDerivedSecretNamesFit: every Secret the operator names after an object
// has a valid name for the longest name admission lets through (239
// characters), so no object can be stuck on a Secret it cannot create.
func TestDerivedSecretNamesFit(t *testing.T) {
	obj := &v1.HubSpotInstance{}
	obj.Name = strings.Repeat("a", 239)
	for what, name := range map[string]string{
		"token":        obj.TokenSecretName(),
		"callback":     obj.CallbackSecretName(),
		"consent link": obj.AuthorizationSecretName(),
	} {
		if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
			t.Errorf("%s Secret name of a 239-character object is invalid: %v", what, errs)
		}
	}
	if got := (&v1.HubSpotInstance{}).AuthorizationSecretName(); got != "-oauth-consent" {
		t.Errorf("AuthorizationSecretName suffix = %q", got)
	}
}

// Every Secret the operator writes says whose it is, whatever labels a user
// adds.
func TestOwnedSecretLabels(t *testing.T) {
	obj := &v1.HubSpotInstance{ObjectMeta: metav1.ObjectMeta{Name: "crm"}}
	ours := map[string]string{v1.ManagedByLabel: v1.FieldManager, v1.InstanceLabel: "crm"}
	for name, tc := range map[string]struct {
		extra, want map[string]string
	}{
		"none":                      {nil, ours},
		"the user's kept":           {map[string]string{"team": "a"}, map[string]string{"team": "a", v1.ManagedByLabel: v1.FieldManager, v1.InstanceLabel: "crm"}},
		"ours are never taken over": {map[string]string{v1.ManagedByLabel: "helm", v1.InstanceLabel: "other"}, ours},
	} {
		if diff := cmp.Diff(tc.want, obj.OwnedSecretLabels(tc.extra)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}
