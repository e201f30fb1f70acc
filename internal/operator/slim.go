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
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

// SlimCachedObjects drops what the operator never reads from its cache:
// managedFields everywhere, and the labels and annotations of metadata-only
// objects (Secrets), where `kubectl apply` keeps a last-applied copy of the whole
// Secret — data included. Memory then stays flat however many unrelated
// Secrets the cluster holds, and no Secret data sits in the cache.
//
// Of a HubSpotInstance it drops kubectl's last-applied copy of the object,
// which nothing reads and which can outweigh the rest of it. Every write the
// operator makes is a merge patch against a cached copy, so what the cache
// lacks is left as it is on the server.
//
// The strings that thousands of objects have in common (namespace, kinds,
// policies, Secret names and keys, endpoint, condition types and reasons)
// are kept once rather than once per object: decoding gives every object
// its own copy of each.
func SlimCachedObjects(obj any) (any, error) {
	if accessor, ok := obj.(metav1.Object); ok {
		accessor.SetManagedFields(nil)
	}
	switch o := obj.(type) {
	case *metav1.PartialObjectMetadata:
		// Of a cached Secret only its existence, owner references and
		// resourceVersion are read; labels and data are read uncached.
		o.SetAnnotations(nil)
		o.SetLabels(nil)
		internMeta(&o.TypeMeta, &o.ObjectMeta)
	case *elementsv1alpha1.HubSpotInstance:
		delete(o.Annotations, corev1.LastAppliedConfigAnnotation)
		internMeta(&o.TypeMeta, &o.ObjectMeta)
		internSpec(&o.Spec)
		for i := range o.Status.Conditions {
			c := &o.Status.Conditions[i]
			c.Type, c.Status, c.Reason = shared.of(c.Type), internAs(c.Status), shared.of(c.Reason)
		}
		o.Status.InstancePlatform = shared.of(o.Status.InstancePlatform)
	}
	return obj, nil
}

func internMeta(t *metav1.TypeMeta, m *metav1.ObjectMeta) {
	t.APIVersion, t.Kind = shared.of(t.APIVersion), shared.of(t.Kind)
	m.Namespace = shared.of(m.Namespace)
	m.Labels, m.Annotations = internKeys(m.Labels), internKeys(m.Annotations)
	internAll(m.Finalizers)
	for i := range m.OwnerReferences {
		ref := &m.OwnerReferences[i]
		ref.APIVersion, ref.Kind = shared.of(ref.APIVersion), shared.of(ref.Kind)
	}
}

func internSpec(s *elementsv1alpha1.HubSpotInstanceSpec) {
	p := &s.Platform
	p.Endpoint = internAs(p.Endpoint)
	internRef(&p.CredentialsSecretRef.Name, &p.CredentialsSecretRef.UserSecretKey, &p.CredentialsSecretRef.OrganizationSecretKey)
	internAll(s.Tags)
	s.Auth.Type = internAs(s.Auth.Type)
	if a := s.Auth.APIKey; a != nil {
		internRef(&a.SecretRef.Name, &a.SecretRef.Key)
	}
	if a := s.Auth.OAuth2; a != nil {
		internRef(&a.ClientSecretRef.Name, &a.ClientSecretRef.ClientIDKey, &a.ClientSecretRef.ClientSecretKey)
		internAll(a.Scopes)
		a.CallbackURL = internAs(a.CallbackURL)
	}
	if a := s.Auth.OAuth2Legacy; a != nil {
		internRef(&a.ClientIDSecretRef.Name, &a.ClientIDSecretRef.Key)
		t := &a.TokensSecretRef
		internRef(&t.Name, &t.AccessTokenKey, &t.RefreshTokenKey, &t.ExpiresInKey)
		internAll(a.Scopes)
		a.CallbackURL = internAs(a.CallbackURL)
	}
	s.TokenSecret.Labels, s.TokenSecret.Annotations = internKeys(s.TokenSecret.Labels), internKeys(s.TokenSecret.Annotations)
	s.DeletionPolicy, s.ManagementPolicy = internAs(s.DeletionPolicy), internAs(s.ManagementPolicy)
}

// internRef interns a Secret's name and the keys read from it.
func internRef[K ~string](name *elementsv1alpha1.SecretName, keys ...*K) {
	*name = internAs(*name)
	for _, k := range keys {
		*k = internAs(*k)
	}
}

func internAll(s []string) {
	for i := range s {
		s[i] = shared.of(s[i])
	}
}

// internKeys returns m with its keys interned; values are often one
// object's own (an instance id, a marker, a name) and are kept as they are.
// The map is built anew: assigning an equal key to an existing entry need not
// replace the copy the map holds.
func internKeys(m map[string]string) map[string]string {
	if len(m) == 0 {
		return m
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[shared.of(k)] = v
	}
	return out
}

func internAs[S ~string](s S) S { return S(shared.of(string(s))) }

// maxShared bounds the strings kept: values that turn out to be unique to an
// object (a per-object Secret name, say) then cost a bounded amount, and
// past the bound strings are simply kept per object as before.
const maxShared = 4096

// shared holds one copy of each string interned, for the life of the process.
var shared = &interner{strings: map[string]string{}}

type interner struct {
	mu      sync.Mutex
	strings map[string]string
}

// of returns the copy of s already held, holding s if there is none yet.
func (in *interner) of(s string) string {
	if s == "" {
		return s
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if c, ok := in.strings[s]; ok {
		return c
	}
	if len(in.strings) >= maxShared {
		return s
	}
	// A copy of its own: s may share its bytes with something larger.
	c := strings.Clone(s)
	in.strings[c] = c
	return c
}
