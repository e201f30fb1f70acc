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
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"

	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
)

func (r *HubSpotInstanceReconciler) ensureFinalizer(ctx context.Context, s *session) error {
	if controllerutil.ContainsFinalizer(s.obj, elementsv1alpha1.Finalizer) {
		return nil
	}
	if err := r.patchObject(ctx, s, func(o *elementsv1alpha1.HubSpotInstance) {
		controllerutil.AddFinalizer(o, elementsv1alpha1.Finalizer)
	}); err != nil {
		return fmt.Errorf("adding finalizer: %w", err)
	}
	return nil
}

// patchObject applies change to the object's metadata and writes it with an
// optimistic lock. On a conflict it re-reads the object past the cache and
// applies change again: a merge patch from a stale copy would replace whole
// lists, such as other controllers' finalizers. Status computed so far is
// kept; finish writes it.
func (r *HubSpotInstanceReconciler) patchObject(ctx context.Context, s *session, change func(*elementsv1alpha1.HubSpotInstance)) error {
	obj := s.obj
	status := obj.Status // the answer to a patch carries the stored status, not ours
	defer func() { obj.Status = status }()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		patch := client.MergeFromWithOptions(obj.DeepCopy(), client.MergeFromWithOptimisticLock{})
		change(obj)
		err := r.Patch(ctx, obj, patch)
		if apierrors.IsConflict(err) {
			if gerr := r.apiReader.Get(ctx, client.ObjectKeyFromObject(obj), obj); gerr != nil {
				return gerr
			}
		}
		return err
	})
	if err == nil {
		r.rememberWrite(s)
	}
	return err
}

// instanceIDOf is the recorded instance id: the annotation names an import
// (and was the record of earlier versions); status records the rest.
func instanceIDOf(obj *elementsv1alpha1.HubSpotInstance) int64 {
	if id := annotatedInstanceID(obj); id != 0 {
		return id
	}
	return obj.Status.InstanceID
}

func annotatedInstanceID(obj *elementsv1alpha1.HubSpotInstance) int64 {
	if v := obj.Annotations[elementsv1alpha1.InstanceIDAnnotation]; v != "" {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
			return id
		}
	}
	return 0
}

// ownedInstanceID is the instance status recorded as this object's: the
// only id that is proof of ownership by itself. The import annotation is
// not, until verifyImport has checked it and status recorded it.
func ownedInstanceID(obj *elementsv1alpha1.HubSpotInstance) int64 {
	return obj.Status.InstanceID
}

func validInstanceID(v string) bool {
	id, err := strconv.ParseInt(v, 10, 64)
	return err == nil && id > 0
}

func formatID(id int64) string { return strconv.FormatInt(id, 10) }

func (r *HubSpotInstanceReconciler) metaNow() *metav1.Time {
	t := metav1.NewTime(r.now())
	return &t
}

// rememberWrite records the resourceVersion our last write produced, and
// forgets the instance a create left to record once status holds its id.
func (r *HubSpotInstanceReconciler) rememberWrite(s *session) {
	version, recorded := s.obj.ResourceVersion, s.obj.Status.InstanceID
	s.remember(func(m *remembered) {
		m.objectVersion = version
		if m.created != nil && m.created.id == recorded {
			m.created = nil
		}
	})
}
