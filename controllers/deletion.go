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
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
)

// reconcileDelete deletes (or orphans) the instance, then lets the object go.
// Without credentials the finalizer stays: silently orphaning an instance
// would leave a live HubSpot connection nobody knows about.
func (r *HubSpotInstanceReconciler) reconcileDelete(ctx context.Context, s *session) error {
	obj := s.obj
	r.drift.forget(client.ObjectKeyFromObject(obj))
	if !controllerutil.ContainsFinalizer(obj, elementsv1alpha1.Finalizer) {
		r.memory().forget(client.ObjectKeyFromObject(obj))
		s.gone = true
		return nil
	}
	if obj.Spec.GetDeletionPolicy() == elementsv1alpha1.DeletionPolicyOrphan {
		r.event(obj, corev1.EventTypeNormal, elementsv1alpha1.EventReasonOrphaned, "Delete",
			"deletionPolicy is Orphan: element instance "+formatID(ownedInstanceID(obj))+" is left at Cloud Elements")
	} else if err := r.deleteInstance(ctx, obj); err != nil {
		return err
	}
	if err := r.patchObject(ctx, obj, func(o *elementsv1alpha1.HubSpotInstance) {
		controllerutil.RemoveFinalizer(o, elementsv1alpha1.Finalizer)
	}); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("removing finalizer: %w", err)
	}
	r.memory().forget(client.ObjectKeyFromObject(obj))
	s.gone = true
	return nil
}

// deleteInstance deletes the recorded instance, or, after an interrupted
// create, every instance found with the object's owner tag — once a create
// that may still commit has had its grace period.
func (r *HubSpotInstanceReconciler) deleteInstance(ctx context.Context, obj *elementsv1alpha1.HubSpotInstance) error {
	ids := []int64{ownedInstanceID(obj)}
	marker := obj.Annotations[elementsv1alpha1.CreatePendingAnnotation]
	if ids[0] == 0 && marker == "" {
		return nil
	}
	if err := checkPlatformUnchanged(obj, elementsv1alpha1.ReasonDeletionBlocked); err != nil {
		return err
	}
	in, err := r.resolveCredentials(ctx, obj)
	if err != nil {
		return err
	}
	api, err := r.newElementAPI(in.endpoint, in.userSecret, in.organizationSecret)
	if err != nil {
		return stalledError(elementsv1alpha1.ReasonDeletionBlocked, "spec.platform.endpoint: %w", err)
	}
	if ids[0] == 0 {
		found, err := findOwnedInstances(ctx, api, obj)
		if err != nil {
			return classifyAPIError("looking up an interrupted create before deleting", err)
		}
		ids = ids[:0]
		for _, inst := range found {
			ids = append(ids, inst.ID)
		}
		decision, wait := decideCreate(marker, r.memory().get(obj).refusedMarker, r.now(), r.createGrace)
		if len(ids) == 0 && decision == waitForInFlight {
			return &reconcileError{reason: elementsv1alpha1.ReasonDeletionBlocked, retryAfter: wait,
				err: fmt.Errorf("a create started at %s may still commit at Cloud Elements; deleting once it has had %s",
					parseCreateMarker(marker).at.UTC().Format(time.RFC3339), r.createGrace)}
		}
	}
	for _, id := range ids {
		if err := api.DeleteInstance(ctx, id); err != nil && !cloudelements.IsNotFound(err) {
			return classifyAPIError("deleting element instance "+formatID(id), err)
		}
		r.event(obj, corev1.EventTypeNormal, elementsv1alpha1.EventReasonDeleted, "Delete", "deleted element instance "+formatID(id))
	}
	return nil
}
