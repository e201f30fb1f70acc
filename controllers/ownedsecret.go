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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

// The Secrets an object owns (its token, its consent link) are written the
// same way: created when missing — never applied, since an apply would merge
// into a Secret of that name created since the cache was read and take it
// over — and otherwise applied over the live copy whose ownership was just
// checked, on condition that it has not changed since.

// createOwnedSecret creates desired, controlled by obj. It returns the new
// resourceVersion, or "" without an error when a Secret of that name
// appeared meanwhile.
func (r *HubSpotInstanceReconciler) createOwnedSecret(ctx context.Context, obj *elementsv1alpha1.HubSpotInstance, desired *corev1.Secret) (string, error) {
	created := desired.DeepCopy()
	created.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(obj, elementsv1alpha1.GroupVersion.WithKind("HubSpotInstance"))}
	err := r.Create(ctx, created, client.FieldOwner(elementsv1alpha1.FieldManager))
	switch {
	case err == nil:
		return created.ResourceVersion, nil
	case apierrors.IsAlreadyExists(err):
		return "", nil
	}
	return "", fmt.Errorf("creating Secret %s/%s: %w", desired.Namespace, desired.Name, err)
}

// readOwnedSecret reads the live copy of a Secret that must be controlled by
// obj; conflict is the error to report when it is not.
func (r *HubSpotInstanceReconciler) readOwnedSecret(ctx context.Context, obj *elementsv1alpha1.HubSpotInstance, name string, conflict func() error) (*corev1.Secret, error) {
	key := client.ObjectKey{Namespace: obj.Namespace, Name: name}
	current := &corev1.Secret{}
	if err := r.apiReader.Get(ctx, key, current); err != nil {
		return nil, fmt.Errorf("reading Secret %s: %w", key, err)
	}
	if !metav1.IsControlledBy(current, obj) {
		return nil, conflict()
	}
	return current, nil
}

// applyOwnedSecret applies desired over current (read by readOwnedSecret),
// failing if current changed meanwhile, and returns the new resourceVersion.
func (r *HubSpotInstanceReconciler) applyOwnedSecret(ctx context.Context, obj *elementsv1alpha1.HubSpotInstance, desired, current *corev1.Secret) (string, error) {
	ac := corev1ac.Secret(desired.Name, obj.Namespace).
		WithResourceVersion(current.ResourceVersion).
		WithType(corev1.SecretTypeOpaque).
		WithLabels(desired.Labels).
		WithAnnotations(desired.Annotations).
		WithData(desired.Data).
		WithOwnerReferences(metav1ac.OwnerReference().
			WithAPIVersion(elementsv1alpha1.GroupVersion.String()).
			WithKind("HubSpotInstance").
			WithName(obj.Name).
			WithUID(obj.UID).
			WithController(true).
			WithBlockOwnerDeletion(true))
	if err := r.Apply(ctx, ac, client.FieldOwner(elementsv1alpha1.FieldManager), client.ForceOwnership); err != nil {
		return "", fmt.Errorf("writing Secret %s/%s: %w", obj.Namespace, desired.Name, err)
	}
	if ac.ResourceVersion == nil {
		return "", nil
	}
	return *ac.ResourceVersion, nil
}
