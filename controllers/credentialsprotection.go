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
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"

	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// CredentialsProtection removes CredentialsInUseFinalizer from a Secret once
// no HubSpotInstance may still need it to delete its instance.
type CredentialsProtection struct {
	client.Client
	// AllShards, when the cache holds only this shard's HubSpotInstances,
	// reads every shard's (the API server): a Secret may be used by objects
	// of several shards, and it is released only when none of them needs it.
	// nil when the cache holds every object.
	AllShards client.Reader
	// writes tells the objects' Secret watch which updates were our own
	// releases; nil when nothing listens.
	writes *protectionWrites
}

// SetupWithManager watches Secrets that carry the protection, and the
// HubSpotInstances that use them (a finalizer removed, a policy or a
// reference changed, an object gone).
func (p *CredentialsProtection) SetupWithManager(mgr ctrl.Manager, opts controller.Options) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("credentials-protection").
		For(&corev1.Secret{}, builder.OnlyMetadata, builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool {
			return controllerutil.ContainsFinalizer(o, elementsv1alpha1.CredentialsInUseFinalizer)
		}))).
		Watches(&elementsv1alpha1.HubSpotInstance{}, credentialsSecretHandler()).
		WithOptions(opts).
		Complete(p)
}

// credentialsSecretHandler enqueues the credentials Secret an object uses,
// before and after a change.
func credentialsSecretHandler() handler.EventHandler {
	enqueue := func(q workqueue.TypedRateLimitingInterface[reconcile.Request], o client.Object) {
		if hsi, ok := o.(*elementsv1alpha1.HubSpotInstance); ok {
			q.Add(reconcile.Request{NamespacedName: client.ObjectKey{Namespace: hsi.Namespace,
				Name: string(hsi.Spec.Platform.CredentialsSecretRef.Name)}})
		}
	}
	return handler.Funcs{
		UpdateFunc: func(_ context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			if !mayReleaseCredentials(e.ObjectOld, e.ObjectNew) {
				// Status and marker writes, thousands of them in a mass
				// create, cannot free a Secret, and neither can an object
				// taking the protection on: not worth a look each.
				return
			}
			enqueue(q, e.ObjectOld)
			enqueue(q, e.ObjectNew)
		},
		DeleteFunc: func(_ context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(q, e.Object)
		},
	}
}

// mayReleaseCredentials: an update that can end an object's need of its
// credentials Secret (its finalizer went, its deletion or management policy
// or its Secret changed). Other updates never free a Secret.
func mayReleaseCredentials(before, after client.Object) bool {
	old, okOld := before.(*elementsv1alpha1.HubSpotInstance)
	cur, okNew := after.(*elementsv1alpha1.HubSpotInstance)
	if !okOld || !okNew {
		return true
	}
	return (mayNeedCredentials(old) && !mayNeedCredentials(cur)) ||
		old.Spec.Platform.CredentialsSecretRef.Name != cur.Spec.Platform.CredentialsSecretRef.Name
}

// mayNeedCredentials: the object may need its credentials Secret to delete
// an instance, now or once it has created one. A create protects the Secret
// before the object's own finalizer is written (nothing that can fail may
// come between that write and the POST), so an object still alive counts
// even before its finalizer: else the protection added for its create could
// be released before the create is recorded.
func mayNeedCredentials(obj *elementsv1alpha1.HubSpotInstance) bool {
	return needsCredentials(obj) || (obj.DeletionTimestamp.IsZero() &&
		obj.Spec.GetDeletionPolicy() == elementsv1alpha1.DeletionPolicyDelete && !obj.Spec.ObserveOnly())
}

// Reconcile releases a Secret nobody needs any more.
func (p *CredentialsProtection) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	m := secretMetadata(req.Namespace, req.Name)
	if err := p.Get(ctx, req.NamespacedName, m); err != nil || !controllerutil.ContainsFinalizer(m, elementsv1alpha1.CredentialsInUseFinalizer) {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	var users elementsv1alpha1.HubSpotInstanceList
	// One user is enough, and it is only read: a Secret shared by ten
	// thousand objects costs one copy a look, not ten thousand.
	if err := p.List(ctx, &users, client.InNamespace(req.Namespace), client.MatchingFields{credentialsNeededIndex: req.Name},
		client.Limit(1), client.UnsafeDisableDeepCopy); err != nil {
		return ctrl.Result{}, err
	}
	if len(users.Items) > 0 {
		return ctrl.Result{}, nil
	}
	if p.AllShards != nil {
		// Only when our own shard lets go is the whole namespace read, page
		// by page: releases are rare, and the API server cannot select by
		// spec fields.
		needed, err := p.neededByAnyShard(ctx, req.Namespace, req.Name)
		if err != nil || needed {
			return ctrl.Result{}, err
		}
	}
	patch := client.MergeFromWithOptions(m.DeepCopy(), client.MergeFromWithOptimisticLock{})
	p.writes.expect(req.NamespacedName, m.ResourceVersion)
	controllerutil.RemoveFinalizer(m, elementsv1alpha1.CredentialsInUseFinalizer)
	if err := p.Patch(ctx, m, patch); err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, fmt.Errorf("releasing credentials Secret %s: %w", req.NamespacedName, err)
	}
	return ctrl.Result{}, nil
}

// anyNeeds: one of objs may still need the credentials Secret secret.
func anyNeeds(objs []elementsv1alpha1.HubSpotInstance, secret string) bool {
	for i := range objs {
		if u := &objs[i]; string(u.Spec.Platform.CredentialsSecretRef.Name) == secret && mayNeedCredentials(u) {
			return true
		}
	}
	return false
}

// allShardsPageSize bounds one page of the uncached list.
const allShardsPageSize = 500

// neededByAnyShard reads every HubSpotInstance of the namespace past the
// shard's cache.
func (p *CredentialsProtection) neededByAnyShard(ctx context.Context, namespace, secret string) (bool, error) {
	opts := []client.ListOption{client.InNamespace(namespace), client.Limit(allShardsPageSize)}
	for cont := ""; ; {
		var page elementsv1alpha1.HubSpotInstanceList
		if err := p.AllShards.List(ctx, &page, append(opts, client.Continue(cont))...); err != nil {
			return false, fmt.Errorf("listing the users of credentials Secret %s/%s in every shard: %w", namespace, secret, err)
		}
		if anyNeeds(page.Items, secret) {
			return true, nil
		}
		if cont = page.Continue; cont == "" {
			return false, nil
		}
	}
}
