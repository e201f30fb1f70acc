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

// Sharding without an API server (go test ./controllers/ -skip TestControllers):
// a shard's cache holds only its own HubSpotInstances, which the fake
// "cache" client below stands for; the API server holds every shard's.

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

const shardKey = "sharding.fluxcd.io/key"

func shardingScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(elementsv1alpha1.AddToScheme(s))
	return s
}

// user is an object in shard that uses the credentials Secret "creds" and
// may still have to delete its instance with it.
func user(name, shard string) *elementsv1alpha1.HubSpotInstance {
	return &elementsv1alpha1.HubSpotInstance{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: name, Labels: map[string]string{shardKey: shard},
			Finalizers: []string{elementsv1alpha1.Finalizer}},
		Spec: elementsv1alpha1.HubSpotInstanceSpec{Platform: elementsv1alpha1.PlatformSpec{
			CredentialsSecretRef: elementsv1alpha1.CredentialsSecretRef{Name: "creds"}}},
	}
}

func TestCredentialsProtectionKeepsASecretAnotherShardNeeds(t *testing.T) {
	scheme := shardingScheme(t)
	index := func(o client.Object) []string { return referencedSecrets(o.(*elementsv1alpha1.HubSpotInstance)) }
	for name, tc := range map[string]struct {
		otherShardNeedsIt bool
		allShards         bool
		wantKept          bool
	}{
		"another shard's object needs it": {otherShardNeedsIt: true, allShards: true, wantKept: true},
		"nobody needs it":                 {otherShardNeedsIt: false, allShards: true, wantKept: false},
		"without AllShards the cache is taken as all (the defect AllShards avoids)": {otherShardNeedsIt: true, allShards: false, wantKept: false},
	} {
		t.Run(name, func(t *testing.T) {
			secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "creds",
				Finalizers: []string{elementsv1alpha1.CredentialsInUseFinalizer}}}
			// Ours no longer needs it: it is to leave its instance.
			ours := user("ours", "shard1")
			ours.Finalizers = nil
			ours.Spec.DeletionPolicy = elementsv1alpha1.DeletionPolicyOrphan
			theirs := user("theirs", "shard2")
			if !tc.otherShardNeedsIt {
				theirs.Spec.DeletionPolicy = elementsv1alpha1.DeletionPolicyOrphan
			}
			cache := fake.NewClientBuilder().WithScheme(scheme).WithObjects(secret, ours.DeepCopy()).
				WithIndex(&elementsv1alpha1.HubSpotInstance{}, secretRefIndex, index).
				WithIndex(&elementsv1alpha1.HubSpotInstance{}, credentialsNeededIndex, credentialsNeeded).Build()
			apiServer := fake.NewClientBuilder().WithScheme(scheme).WithObjects(ours.DeepCopy(), theirs).Build()
			p := &CredentialsProtection{Client: cache}
			if tc.allShards {
				p.AllShards = apiServer
			}
			key := client.ObjectKeyFromObject(secret)
			if _, err := p.Reconcile(context.Background(), ctrl.Request{NamespacedName: key}); err != nil {
				t.Fatal(err)
			}
			got := &corev1.Secret{}
			if err := cache.Get(context.Background(), key, got); err != nil {
				t.Fatal(err)
			}
			if kept := controllerutil.ContainsFinalizer(got, elementsv1alpha1.CredentialsInUseFinalizer); kept != tc.wantKept {
				t.Errorf("protection kept: %v, want %v", kept, tc.wantKept)
			}
		})
	}
}

// A shard whose last write to an object is newer than its cache reads the
// object from the API server; if it was relabelled to another shard in
// between, it is not this shard's to reconcile any more.
func TestFetchLetsGoOfAnObjectRelabelledToAnotherShard(t *testing.T) {
	scheme := shardingScheme(t)
	cached := user("moving", "shard1")
	cached.UID, cached.ResourceVersion = "uid-1", "10"
	live := cached.DeepCopy()
	live.Labels[shardKey] = "shard2"
	live.ResourceVersion = "12"

	for name, tc := range map[string]struct {
		selector labels.Selector
		wantOurs bool
	}{
		"shard1 lets go":                {selector: labels.SelectorFromSet(labels.Set{shardKey: "shard1"}), wantOurs: false},
		"an unsharded process keeps it": {selector: nil, wantOurs: true},
	} {
		t.Run(name, func(t *testing.T) {
			cache := fake.NewClientBuilder().WithScheme(scheme).WithObjects(cached.DeepCopy()).Build()
			apiServer := fake.NewClientBuilder().WithScheme(scheme).WithObjects(live.DeepCopy()).Build()
			r := New(cache, apiServer, nil, nil, nil, WithWatchSelector(tc.selector))
			// As after our own write, which the cache has not seen yet.
			inCache := &elementsv1alpha1.HubSpotInstance{}
			if err := cache.Get(context.Background(), client.ObjectKeyFromObject(cached), inCache); err != nil {
				t.Fatal(err)
			}
			r.memory().update(inCache, func(m *remembered) { m.objectVersion = "11"; m.readyReason = "Available" })

			got, err := r.fetch(context.Background(), client.ObjectKeyFromObject(cached))
			if err != nil {
				t.Fatal(err)
			}
			if ours := got != nil; ours != tc.wantOurs {
				t.Fatalf("fetched %v, want ours: %v", got, tc.wantOurs)
			}
			if remembered := r.memory().get(inCache).readyReason != ""; remembered != tc.wantOurs {
				t.Errorf("still counted in this process's gauges: %v, want %v", remembered, tc.wantOurs)
			}
		})
	}
}

// A token Secret wakes its owner only in the shard that reconciles it.
func TestOwnedSecretsWakeOnlyTheirOwnersShard(t *testing.T) {
	scheme := shardingScheme(t)
	ours, theirs := user("ours", "shard1"), user("theirs", "shard2")
	cache := fake.NewClientBuilder().WithScheme(scheme).WithObjects(ours).Build()
	tokenOf := func(owner *elementsv1alpha1.HubSpotInstance) *corev1.Secret {
		yes := true
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: owner.Namespace, Name: owner.TokenSecretName(),
			OwnerReferences: []metav1.OwnerReference{{APIVersion: elementsv1alpha1.GroupVersion.String(), Kind: "HubSpotInstance",
				Name: owner.Name, UID: owner.UID, Controller: &yes}}}}
	}
	shard1 := New(cache, cache, nil, nil, nil, WithWatchSelector(labels.SelectorFromSet(labels.Set{shardKey: "shard1"}))).ownerInShard()
	unsharded := New(cache, cache, nil, nil, nil).ownerInShard()
	for _, tc := range []struct {
		name   string
		pass   predicate.Funcs
		secret *corev1.Secret
		want   bool
	}{
		{"shard1, its own object's Secret", shard1, tokenOf(ours), true},
		{"shard1, shard2's object's Secret", shard1, tokenOf(theirs), false},
		{"unsharded, any Secret", unsharded, tokenOf(theirs), true},
	} {
		if got := tc.pass.Create(event.CreateEvent{Object: tc.secret}); got != tc.want {
			t.Errorf("%s: passes %v, want %v", tc.name, got, tc.want)
		}
	}
}
