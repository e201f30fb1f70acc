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

package operator

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

// decoded is obj as an informer gets it: every string a copy of its own.
func decoded[T any](t *testing.T, obj *T) *T {
	t.Helper()
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func sameBytes(a, b string) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

func TestSlimCachedInstance(t *testing.T) {
	obj := &elementsv1alpha1.HubSpotInstance{
		TypeMeta: metav1.TypeMeta{APIVersion: elementsv1alpha1.GroupVersion.String(), Kind: "HubSpotInstance"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "crm", ResourceVersion: "7",
			Labels:        map[string]string{"app": "crm"},
			Annotations:   map[string]string{elementsv1alpha1.InstanceIDAnnotation: "42", corev1.LastAppliedConfigAnnotation: `{"spec":{}}`},
			Finalizers:    []string{elementsv1alpha1.Finalizer},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}},
		Spec: elementsv1alpha1.HubSpotInstanceSpec{
			Platform: elementsv1alpha1.PlatformSpec{Endpoint: "https://api.cloud-elements.com/elements/api-v2",
				CredentialsSecretRef: elementsv1alpha1.CredentialsSecretRef{Name: "creds", UserSecretKey: "user", OrganizationSecretKey: "org"}},
			Tags: []string{"crm"},
			Auth: elementsv1alpha1.AuthSpec{Type: elementsv1alpha1.AuthTypeAPIKey,
				APIKey: &elementsv1alpha1.APIKeyAuth{SecretRef: elementsv1alpha1.SecretKeySelector{Name: "key", Key: "api-key"}}},
			DeletionPolicy: elementsv1alpha1.DeletionPolicyDelete,
		},
		Status: elementsv1alpha1.HubSpotInstanceStatus{InstanceID: 42, InstancePlatform: "https://api.cloud-elements.com with Secret creds",
			Conditions: []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Available", Message: "element instance 42 is valid"}}},
	}
	// What is read stays as it was; managedFields and kubectl's copy go.
	want := obj.DeepCopy()
	want.ManagedFields = nil
	delete(want.Annotations, corev1.LastAppliedConfigAnnotation)

	a, err := SlimCachedObjects(decoded(t, obj))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := SlimCachedObjects(decoded(t, obj))
	if diff := cmp.Diff(want, a); diff != "" {
		t.Errorf("cached object (-want +got):\n%s", diff)
	}
	x, y := a.(*elementsv1alpha1.HubSpotInstance), b.(*elementsv1alpha1.HubSpotInstance)
	for field, pair := range map[string][2]string{
		"kind":             {x.Kind, y.Kind},
		"namespace":        {x.Namespace, y.Namespace},
		"finalizer":        {x.Finalizers[0], y.Finalizers[0]},
		"endpoint":         {string(x.Spec.Platform.Endpoint), string(y.Spec.Platform.Endpoint)},
		"API key Secret":   {string(x.Spec.Auth.APIKey.SecretRef.Name), string(y.Spec.Auth.APIKey.SecretRef.Name)},
		"condition reason": {x.Status.Conditions[0].Reason, y.Status.Conditions[0].Reason},
		"instancePlatform": {x.Status.InstancePlatform, y.Status.InstancePlatform},
	} {
		if !sameBytes(pair[0], pair[1]) {
			t.Errorf("%s: two cached objects hold a copy each", field)
		}
	}
	if sameBytes(x.Status.Conditions[0].Message, y.Status.Conditions[0].Message) || sameBytes(x.Name, y.Name) {
		t.Error("an object's own strings are interned: the table would fill with them")
	}
}

func TestSlimCachedSecretMetadata(t *testing.T) {
	controller := true
	m := &metav1.PartialObjectMetadata{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "crm-element-token", ResourceVersion: "9",
			Labels:        map[string]string{"app": "crm"},
			Annotations:   map[string]string{corev1.LastAppliedConfigAnnotation: `{"data":{"token":"c2VjcmV0"}}`},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: elementsv1alpha1.GroupVersion.String(), Kind: "HubSpotInstance",
				Name: "crm", UID: "uid-1", Controller: &controller}}},
	}
	want := m.DeepCopy()
	want.Labels, want.Annotations, want.ManagedFields = nil, nil, nil
	a, _ := SlimCachedObjects(decoded(t, m))
	b, _ := SlimCachedObjects(decoded(t, m))
	if diff := cmp.Diff(want, a); diff != "" {
		t.Errorf("cached Secret (-want +got):\n%s", diff)
	}
	x, y := a.(*metav1.PartialObjectMetadata), b.(*metav1.PartialObjectMetadata)
	if !sameBytes(x.OwnerReferences[0].APIVersion, y.OwnerReferences[0].APIVersion) || !sameBytes(x.Namespace, y.Namespace) {
		t.Error("two cached Secrets hold a copy each of their owner's API version and their namespace")
	}
}

// Past its bound the table takes no more strings, and hands them back as
// they are.
func TestInternerBound(t *testing.T) {
	in := &interner{strings: map[string]string{}}
	for i := range maxShared + 10 {
		in.of(string(rune('a'+i%26)) + string(rune(i)))
	}
	if len(in.strings) != maxShared {
		t.Errorf("holds %d strings, want %d", len(in.strings), maxShared)
	}
	s := string([]byte("not held"))
	if got := in.of(s); got != s || !sameBytes(got, s) {
		t.Errorf("past the bound: got %q", got)
	}
	if got := in.of(""); got != "" {
		t.Errorf("empty: got %q", got)
	}
}
