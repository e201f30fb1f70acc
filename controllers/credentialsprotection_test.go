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
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

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
