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

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

func TestDecideDeletion(t *testing.T) {
	obj := func(policy elementsv1alpha1.DeletionPolicy, management elementsv1alpha1.ManagementPolicy, id int64, annotations map[string]string) *elementsv1alpha1.HubSpotInstance {
		o := &elementsv1alpha1.HubSpotInstance{ObjectMeta: metav1.ObjectMeta{Annotations: annotations}}
		o.Spec.DeletionPolicy, o.Spec.ManagementPolicy, o.Status.InstanceID = policy, management, id
		return o
	}
	protected := func(value string) map[string]string {
		return map[string]string{elementsv1alpha1.DeletionProtectionAnnotation: value}
	}
	pending := map[string]string{elementsv1alpha1.DeletionProtectionAnnotation: "true",
		elementsv1alpha1.CreatePendingAnnotation: createMarker{at: time.Unix(1, 0), holder: "p"}.String()}
	const del, orphan, full, observe = elementsv1alpha1.DeletionPolicyDelete, elementsv1alpha1.DeletionPolicyOrphan,
		elementsv1alpha1.ManagementPolicyFull, elementsv1alpha1.ManagementPolicyObserveOnly
	cases := map[string]struct {
		obj  *elementsv1alpha1.HubSpotInstance
		want deletion
	}{
		"Delete":                             {obj(del, full, 7, nil), deleteAtPlatform},
		"deletionPolicy left to its default": {obj("", "", 7, nil), deleteAtPlatform},
		"Orphan":                             {obj(orphan, full, 7, nil), orphanByPolicy},
		"ObserveOnly never deletes, whatever deletionPolicy says": {obj(del, observe, 7, nil), orphanObserved},
		"protected": {obj(del, full, 7, protected("true")), protectedWait},
		"protected, but Orphan: the object may go":                   {obj(orphan, full, 7, protected("true")), orphanByPolicy},
		"protected and ObserveOnly":                                  {obj(del, observe, 7, protected("true")), orphanObserved},
		"protected, an interrupted create may have left an instance": {obj(del, full, 0, pending), protectedWait},
		"protected, but nothing was ever created":                    {obj(del, full, 0, protected("true")), deleteAtPlatform},
		"protection off":               {obj(del, full, 7, protected("false")), deleteAtPlatform},
		`only "true" protects: "True"`: {obj(del, full, 7, protected("True")), deleteAtPlatform},
		`only "true" protects: empty`:  {obj(del, full, 7, protected("")), deleteAtPlatform},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, decideDeletion(tc.obj)); diff != "" {
				t.Errorf("decideDeletion (-want +got):\n%s", diff)
			}
		})
	}
}
