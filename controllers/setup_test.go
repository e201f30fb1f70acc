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
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/event"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

// A changed Secret wakes exactly the objects that read or write it: those
// naming it in their spec (found by the field index) and the one it is
// named after by default (found by its name, as the index leaves those out).
func TestObjectsReadingSecret(t *testing.T) {
	object := func(name string, change func(*elementsv1alpha1.HubSpotInstance)) *elementsv1alpha1.HubSpotInstance {
		o := &elementsv1alpha1.HubSpotInstance{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: name},
			Spec: elementsv1alpha1.HubSpotInstanceSpec{
				Platform: elementsv1alpha1.PlatformSpec{CredentialsSecretRef: elementsv1alpha1.CredentialsSecretRef{Name: "creds"}},
				Auth: elementsv1alpha1.AuthSpec{Type: elementsv1alpha1.AuthTypeAPIKey,
					APIKey: &elementsv1alpha1.APIKeyAuth{SecretRef: elementsv1alpha1.SecretKeySelector{Name: elementsv1alpha1.SecretName("key-" + name), Key: "k"}}}}}
		if change != nil {
			change(o)
		}
		return o
	}
	objects := []client.Object{
		object("plain", nil),
		object("named", func(o *elementsv1alpha1.HubSpotInstance) { o.Spec.TokenSecret.Name = "their-token" }),
		object("consent", func(o *elementsv1alpha1.HubSpotInstance) {
			o.Spec.Auth = elementsv1alpha1.AuthSpec{Type: elementsv1alpha1.AuthTypeOAuth2,
				OAuth2: &elementsv1alpha1.OAuth2Auth{ClientSecretRef: elementsv1alpha1.OAuthClientSecretRef{Name: "oauth-app"}}}
		}),
	}
	c := fake.NewClientBuilder().WithScheme(shardingScheme(t)).WithObjects(objects...).
		WithIndex(&elementsv1alpha1.HubSpotInstance{}, secretRefIndex,
			func(o client.Object) []string { return referencedSecrets(o.(*elementsv1alpha1.HubSpotInstance)) }).Build()
	r := New(c, c, nil, nil, nil)

	for _, tc := range []struct {
		secret string
		want   []string
	}{
		{secret: "creds", want: []string{"consent", "named", "plain"}},
		{secret: "key-plain", want: []string{"plain"}},
		{secret: "plain-element-token", want: []string{"plain"}},
		{secret: "their-token", want: []string{"named"}},
		// Its token Secret is another: this one is nothing to it.
		{secret: "named-element-token", want: nil},
		{secret: "consent-oauth-consent", want: []string{"consent"}},
		{secret: "oauth-app", want: []string{"consent"}},
		// No consent link without OAuth 2.
		{secret: "plain-oauth-consent", want: nil},
		{secret: "nobody-element-token", want: nil},
		{secret: "-element-token", want: nil},
		{secret: "unrelated", want: nil},
	} {
		secret := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: tc.secret}}
		var got []string
		for _, req := range r.objectsReadingSecret(context.Background(), secret) {
			if req.Namespace != "team" {
				t.Errorf("%s: request in namespace %q", tc.secret, req.Namespace)
			}
			got = append(got, req.Name)
		}
		slices.Sort(got)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: objects woken (-want +got):\n%s", tc.secret, diff)
		}
	}
}

func TestWatchPredicates(t *testing.T) {
	obj := func(annotations map[string]string, deleting bool) *elementsv1alpha1.HubSpotInstance {
		o := &elementsv1alpha1.HubSpotInstance{ObjectMeta: metav1.ObjectMeta{Annotations: annotations}}
		if deleting {
			o.DeletionTimestamp = &metav1.Time{Time: time.Unix(1, 0)}
		}
		return o
	}
	pending := map[string]string{elementsv1alpha1.CreatePendingAnnotation: "2026-01-01T00:00:00Z"}
	requested := map[string]string{elementsv1alpha1.ReconcileRequestAnnotation: "now"}
	cases := map[string]struct {
		old, new                    *elementsv1alpha1.HubSpotInstance
		wantAnnotations, wantDelete bool
	}{
		"nothing changed":                  {obj(nil, false), obj(nil, false), false, false},
		"our own create-pending marker":    {obj(nil, false), obj(pending, false), false, false},
		"create-pending marker cleared":    {obj(pending, false), obj(nil, false), false, false},
		"a reconcile request":              {obj(nil, false), obj(requested, false), true, false},
		"an import annotation":             {obj(nil, false), obj(map[string]string{elementsv1alpha1.InstanceIDAnnotation: "7"}, false), true, false},
		"deletion starts":                  {obj(nil, false), obj(nil, true), false, true},
		"already deleting, another update": {obj(nil, true), obj(nil, true), false, false},
		"deletion protection lifted while deleting": {obj(map[string]string{elementsv1alpha1.DeletionProtectionAnnotation: "true"}, true),
			obj(nil, true), true, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := event.UpdateEvent{ObjectOld: tc.old, ObjectNew: tc.new}
			if got := annotationsChanged().Update(e); got != tc.wantAnnotations {
				t.Errorf("annotationsChanged = %v, want %v", got, tc.wantAnnotations)
			}
			if got := deletionStarted().Update(e); got != tc.wantDelete {
				t.Errorf("deletionStarted = %v, want %v", got, tc.wantDelete)
			}
		})
	}
}

func TestNotOurProtection(t *testing.T) {
	secretWith := func(rv string, finalizers ...string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "creds", ResourceVersion: rv, Finalizers: finalizers}}
	}
	key := types.NamespacedName{Namespace: "ns", Name: "creds"}
	ours := elementsv1alpha1.CredentialsInUseFinalizer
	cases := map[string]struct {
		announced string // the version a write of ours started from; "" for none
		old, new  *corev1.Secret
		want      bool
	}{
		"data changed (only the resourceVersion shows)":        {"", secretWith("1"), secretWith("2"), true},
		"our protection added":                                 {"1", secretWith("1"), secretWith("2", ours), false},
		"our protection removed":                               {"1", secretWith("1", ours), secretWith("2"), false},
		"data changed on a protected Secret":                   {"", secretWith("1", ours), secretWith("2", ours), true},
		"replaced wholesale: data and our finalizer in one go": {"", secretWith("1", ours), secretWith("2"), true},
		"our finalizer toggled by a write of somebody else's":  {"7", secretWith("1", ours), secretWith("2"), true},
		"another finalizer dropped with new data":              {"", secretWith("1", "example.com/x"), secretWith("2"), true},
		"our write announced, but another finalizer moved too": {"1", secretWith("1", "example.com/x"), secretWith("2", ours), true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			writes := newProtectionWrites()
			if tc.announced != "" {
				writes.expect(key, tc.announced)
			}
			if got := notOurProtection(writes).Update(event.UpdateEvent{ObjectOld: tc.old, ObjectNew: tc.new}); got != tc.want {
				t.Errorf("notOurProtection = %v, want %v", got, tc.want)
			}
		})
	}
}
