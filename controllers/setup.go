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
	"maps"
	"net/http"
	"strings"
	"time"

	"k8s.io/client-go/util/workqueue"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
)

// The operator's default --cluster-name is the kube-system Namespace's UID (internal/operator).
// +kubebuilder:rbac:groups="",resources=namespaces,resourceNames=kube-system,verbs=get

// secretRefIndex indexes HubSpotInstances by the names of the Secrets they read.
const secretRefIndex = ".spec.secretRefs"

// credentialsNeededIndex indexes HubSpotInstances by the credentials Secret
// they may need to delete their instance (mayNeedCredentials), so that
// whether anybody still needs a Secret is one index lookup, not a walk over
// every object that reads it.
const credentialsNeededIndex = ".spec.platform.credentialsSecretRef.needed"

func credentialsNeeded(o client.Object) []string {
	if obj := o.(*elementsv1alpha1.HubSpotInstance); mayNeedCredentials(obj) {
		return []string{string(obj.Spec.Platform.CredentialsSecretRef.Name)}
	}
	return nil
}

// SetupWithManager registers the controller. Secrets are watched as
// metadata only: no informer holds Secret data, which is what keeps memory
// flat in clusters full of unrelated Secrets; the data of the Secrets objects
// reference is held by version in inputSecrets, and nobody else's at all.
func (r *HubSpotInstanceReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager, opts controller.Options) error {
	registerConditionMetrics(r.memory())
	if err := mgr.GetFieldIndexer().IndexField(ctx, &elementsv1alpha1.HubSpotInstance{}, secretRefIndex,
		func(o client.Object) []string { return referencedSecrets(o.(*elementsv1alpha1.HubSpotInstance)) }); err != nil {
		return err
	}
	if err := mgr.GetFieldIndexer().IndexField(ctx, &elementsv1alpha1.HubSpotInstance{}, credentialsNeededIndex, credentialsNeeded); err != nil {
		return err
	}
	protection := &CredentialsProtection{Client: mgr.GetClient(), writes: r.protectionWrites}
	if r.selector != nil {
		protection.AllShards = r.apiReader
	}
	if err := protection.SetupWithManager(mgr, controller.Options{
		RateLimiter: DefaultRateLimiter(), SkipNameValidation: opts.SkipNameValidation}); err != nil {
		return err
	}
	if r.drift != nil {
		if err := mgr.Add(r.drift); err != nil {
			return err
		}
	}
	b := ctrl.NewControllerManagedBy(mgr).
		For(&elementsv1alpha1.HubSpotInstance{}, builder.WithPredicates(predicate.Or[client.Object](
			predicate.GenerationChangedPredicate{}, annotationsChanged(), deletionStarted()))).
		Owns(&corev1.Secret{}, builder.OnlyMetadata, builder.WithPredicates(r.ownerInShard())).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.objectsReadingSecret), builder.OnlyMetadata,
			builder.WithPredicates(notOurProtection(r.protectionWrites)))
	if r.drift != nil {
		b = b.WatchesRawSource(source.Channel(r.drift.events, driftHandler()))
	}
	return b.WithOptions(opts).Named("hubspotinstance").Complete(r)
}

// objectsReadingSecret maps a Secret to the HubSpotInstances that reference
// it, so a created or rotated input reaches exactly those objects. It lists
// the cache, which holds only this shard's objects: a Secret shared across
// shards wakes, in each shard, that shard's readers and no others.
func (r *HubSpotInstanceReconciler) objectsReadingSecret(ctx context.Context, secret client.Object) []reconcile.Request {
	var list elementsv1alpha1.HubSpotInstanceList
	if err := r.List(ctx, &list, client.InNamespace(secret.GetNamespace()),
		client.MatchingFields{secretRefIndex: secret.GetName()}); err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items)+1)
	for _, item := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&item)})
	}
	if owner, ok := r.namedAfter(ctx, secret); ok {
		reqs = append(reqs, reconcile.Request{NamespacedName: owner})
	}
	return reqs
}

// namedAfter finds the object a Secret is named after (its token Secret by
// default, its consent-link Secret), which the field index leaves out. An
// owned Secret wakes its owner anyway; this is for the one the object does
// not own, whose deletion (a SecretConflict resolved) it must hear of.
func (r *HubSpotInstanceReconciler) namedAfter(ctx context.Context, secret client.Object) (types.NamespacedName, bool) {
	name := secret.GetName()
	for _, suffix := range []string{elementsv1alpha1.TokenSecretSuffix, elementsv1alpha1.ConsentLinkSuffix} {
		base, found := strings.CutSuffix(name, suffix)
		if !found || base == "" {
			continue
		}
		key := types.NamespacedName{Namespace: secret.GetNamespace(), Name: base}
		if owner := metav1.GetControllerOf(secret); owner != nil && owner.Kind == "HubSpotInstance" && owner.Name == base {
			// Its own Secret: the watch of owned Secrets wakes it.
			return key, false
		}
		obj := &elementsv1alpha1.HubSpotInstance{}
		if err := r.Get(ctx, key, obj); err != nil {
			return key, false
		}
		switch suffix {
		case elementsv1alpha1.TokenSecretSuffix:
			return key, obj.Spec.TokenSecret.Name == ""
		default:
			return key, obj.Spec.Auth.OAuth2 != nil
		}
	}
	return types.NamespacedName{}, false
}

// ownerInShard passes the events of Secrets whose owner this shard
// reconciles. Every shard caches the metadata of every Secret, so without it
// a token Secret written by one shard would wake its owner's name in all the
// others, each to find nothing in its cache.
func (r *HubSpotInstanceReconciler) ownerInShard() predicate.Funcs {
	return predicate.NewPredicateFuncs(func(o client.Object) bool {
		if r.selector == nil {
			return true
		}
		owner := metav1.GetControllerOf(o)
		if owner == nil {
			return false
		}
		key := client.ObjectKey{Namespace: o.GetNamespace(), Name: owner.Name}
		return r.Get(context.Background(), key, &elementsv1alpha1.HubSpotInstance{}) == nil
	})
}

// annotationsChanged passes annotation edits (reconcile requests, imports)
// but not the create-pending marker the reconciler itself writes: reacting to
// it would retry a failed create at once, around the stall.
func annotationsChanged() predicate.Funcs {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		before, after := maps.Clone(e.ObjectOld.GetAnnotations()), maps.Clone(e.ObjectNew.GetAnnotations())
		delete(before, elementsv1alpha1.CreatePendingAnnotation)
		delete(after, elementsv1alpha1.CreatePendingAnnotation)
		return !maps.Equal(before, after)
	}}
}

// notOurProtection drops the Secret updates that are our own credentials
// protection being added or removed, so protecting a Secret does not send
// every object that reads it around again. Every other update passes: with
// metadata only, a change of data shows as a new resourceVersion and nothing
// else, and it may come in one write with a change of finalizers.
func notOurProtection(writes *protectionWrites) predicate.Funcs {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		return !writes.ours(e.ObjectOld, e.ObjectNew)
	}}
}

// deletionStarted lets the deletion timestamp through even if a server ever
// sets it without bumping the generation.
func deletionStarted() predicate.Funcs {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		return e.ObjectOld.GetDeletionTimestamp().IsZero() && !e.ObjectNew.GetDeletionTimestamp().IsZero()
	}}
}

// ClientFactory returns the production ElementAPIFactory: real HTTP, with the
// given client-side rate limit per endpoint and account.
func ClientFactory(httpClient *http.Client, qps float64, burst int, listTimeout time.Duration) ElementAPIFactory {
	return func(endpoint, user, org string) (ElementAPI, error) {
		return cloudelements.New(cloudelements.Options{Endpoint: endpoint, UserSecret: user, OrganizationSecret: org,
			HTTPClient: httpClient, QPS: qps, Burst: burst, ListTimeout: listTimeout})
	}
}

// DefaultRateLimiter is the retry backoff for failed reconciles: per object,
// exponential from 200ms to 5 minutes, so a failing object never spins.
func DefaultRateLimiter() workqueue.TypedRateLimiter[reconcile.Request] {
	return workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](200*time.Millisecond, 5*time.Minute)
}
