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

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

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
