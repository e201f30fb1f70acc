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
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

// When a namespace is deleted, its namespace controller deletes the
// credentials Secret and the HubSpotInstances in no particular order. Without
// the account credentials the instance at Cloud Elements cannot be deleted,
// and the object's finalizer would wait forever. So a credentials Secret
// carries CredentialsInUseFinalizer while some object may still need it to
// delete its instance: it stays readable (Terminating) until the last such
// object has let go, then the finalizer is removed and the namespace empties.

// protectCredentials is the step that puts the protection on the credentials
// Secret once there is something to delete at Cloud Elements. It reads the
// metadata cache, so at rest it writes nothing.
func (r *HubSpotInstanceReconciler) protectCredentials(ctx context.Context, s *session) error {
	obj := s.obj
	if !needsCredentials(obj) {
		return nil
	}
	return r.addCredentialsFinalizer(ctx, obj)
}

// needsCredentials: the object may yet delete an instance at Cloud Elements.
// An ObserveOnly object never does, whatever its deletionPolicy.
func needsCredentials(obj *elementsv1alpha1.HubSpotInstance) bool {
	return controllerutil.ContainsFinalizer(obj, elementsv1alpha1.Finalizer) &&
		obj.Spec.GetDeletionPolicy() == elementsv1alpha1.DeletionPolicyDelete && !obj.Spec.ObserveOnly()
}

func secretMetadata(namespace, name string) *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	m.Namespace, m.Name = namespace, name
	return m
}

// addCredentialsFinalizer protects the object's credentials Secret. Many
// objects share one Secret, and a mass create has many workers find it
// unprotected at once: they share one write, and a cache that has not yet
// seen that write is not written again. A conflict with somebody else's
// write is retried on a fresh read.
func (r *HubSpotInstanceReconciler) addCredentialsFinalizer(ctx context.Context, obj *elementsv1alpha1.HubSpotInstance) error {
	m := secretMetadata(obj.Namespace, string(obj.Spec.Platform.CredentialsSecretRef.Name))
	key := client.ObjectKeyFromObject(m)
	if err := r.Get(ctx, key, m); err != nil {
		return client.IgnoreNotFound(err) // resolve already named a missing Secret
	}
	if controllerutil.ContainsFinalizer(m, elementsv1alpha1.CredentialsInUseFinalizer) || !m.DeletionTimestamp.IsZero() ||
		r.protectionWrites.protectedFrom(key, m.ResourceVersion) {
		return nil
	}
	_, err, _ := r.protecting.Do(key.String()+"@"+m.ResourceVersion, func() (any, error) {
		return nil, r.protect(ctx, key, m)
	})
	return err
}

func (r *HubSpotInstanceReconciler) protect(ctx context.Context, key client.ObjectKey, m *metav1.PartialObjectMetadata) error {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		patch := client.MergeFromWithOptions(m.DeepCopy(), client.MergeFromWithOptimisticLock{})
		from := m.ResourceVersion
		r.protectionWrites.expect(key, from)
		controllerutil.AddFinalizer(m, elementsv1alpha1.CredentialsInUseFinalizer)
		err := r.Patch(ctx, m, patch)
		if err == nil {
			// Only the finalizer changed, on exactly the version read.
			r.inputs.advance(key, from, m.ResourceVersion)
			r.protectionWrites.protected(key, from)
		}
		if apierrors.IsConflict(err) {
			if gerr := r.apiReader.Get(ctx, key, m); gerr != nil {
				return gerr
			}
			if controllerutil.ContainsFinalizer(m, elementsv1alpha1.CredentialsInUseFinalizer) {
				return nil
			}
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("protecting credentials Secret %s: %w", key, err)
	}
	return nil
}

// protectionWrites lets the Secret watch tell our own protection writes
// (adding or removing CredentialsInUseFinalizer) from everybody else's. The
// watch holds metadata only, so a change of data shows as nothing but a new
// resourceVersion: a write that swaps a finalizer and rotates the data at
// once (a Secret replaced wholesale) looks like a finalizer change, and must
// still wake the objects that read it. Each write of ours is announced, by
// the version it starts from, before it is sent; its optimistic lock makes
// it the only write that can follow that version.
type protectionWrites struct {
	mu   sync.Mutex
	from map[types.NamespacedName]string
	// addedTo is the version each Secret had when we last added the
	// protection to it: a cached copy still at that version is behind.
	addedTo map[types.NamespacedName]string
}

func newProtectionWrites() *protectionWrites {
	return &protectionWrites{from: map[types.NamespacedName]string{}, addedTo: map[types.NamespacedName]string{}}
}

// protected records that our protection was added to the Secret key at
// version from.
func (w *protectionWrites) protected(key types.NamespacedName, from string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.addedTo[key] = from
}

// protectedFrom: a copy of the Secret at version is one our protection was
// added to, and the cache has not caught up with that write yet.
func (w *protectionWrites) protectedFrom(key types.NamespacedName, version string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.addedTo[key] == version
}

// expect announces a protection write on the Secret key at version from.
func (w *protectionWrites) expect(key types.NamespacedName, from string) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.from[key] = from
}

// ours says whether an update of a Secret is a protection write of ours:
// the announced version before it, and only our finalizer added or removed.
func (w *protectionWrites) ours(old, updated client.Object) bool {
	if w == nil || !onlyProtectionToggled(old.GetFinalizers(), updated.GetFinalizers()) {
		return false
	}
	key := client.ObjectKeyFromObject(updated)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.from[key] != old.GetResourceVersion() {
		return false
	}
	delete(w.from, key)
	return true
}

// onlyProtectionToggled: the two finalizer lists differ by exactly
// CredentialsInUseFinalizer.
func onlyProtectionToggled(before, after []string) bool {
	without := func(list []string) []string {
		return slices.DeleteFunc(slices.Clone(list), func(f string) bool { return f == elementsv1alpha1.CredentialsInUseFinalizer })
	}
	return slices.Contains(before, elementsv1alpha1.CredentialsInUseFinalizer) != slices.Contains(after, elementsv1alpha1.CredentialsInUseFinalizer) &&
		slices.Equal(without(before), without(after))
}
