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
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
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
	if !controllerutil.ContainsFinalizer(obj, elementsv1alpha1.Finalizer) {
		r.forgetDuring(s, "")
		s.gone = true
		return nil
	}
	d := decideDeletion(obj)
	r.forgetDuring(s, r.releasedNameTag(obj, d))
	switch d {
	case protectedWait:
		// Nothing is called and nothing retried: the annotation's removal
		// or a change of deletionPolicy wakes the object.
		s.conclude(deletionProtectedOutcome(obj))
		return nil
	case orphanByPolicy, orphanObserved:
		why := "deletionPolicy is Orphan"
		if d == orphanObserved {
			why = "managementPolicy is ObserveOnly"
		}
		what := "any element instance of this object"
		if id := ownedInstanceID(obj); id != 0 {
			what = "element instance " + formatID(id)
		}
		if d == orphanByPolicy {
			if err := r.handOver(ctx, obj); err != nil {
				return err
			}
		}
		r.event(obj, corev1.EventTypeNormal, elementsv1alpha1.EventReasonOrphaned, "Delete",
			why+": "+what+" is left at Cloud Elements")
	default:
		if err := r.deleteInstance(ctx, s); err != nil {
			return err
		}
	}
	if err := r.patchObject(ctx, s, func(o *elementsv1alpha1.HubSpotInstance) {
		controllerutil.RemoveFinalizer(o, elementsv1alpha1.Finalizer)
	}); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("removing finalizer: %w", err)
	}
	s.gone = true
	return nil
}

// deletion is what deleting the object does at Cloud Elements.
type deletion int

const (
	// deleteAtPlatform deletes the instance (if there is one), then lets the
	// object go.
	deleteAtPlatform deletion = iota
	// orphanByPolicy leaves the instance: deletionPolicy is Orphan.
	orphanByPolicy
	// orphanObserved leaves the instance: managementPolicy is ObserveOnly,
	// which never deletes, whatever deletionPolicy says.
	orphanObserved
	// protectedWait keeps the object, and the instance, until the deletion
	// protection is lifted or deletionPolicy is Orphan.
	protectedWait
)

// decideDeletion: leaving the instance always wins, since it cannot be
// undone the other way; protection only holds back a delete that would
// otherwise happen.
func decideDeletion(obj *elementsv1alpha1.HubSpotInstance) deletion {
	switch {
	case obj.Spec.ObserveOnly():
		return orphanObserved
	case obj.Spec.GetDeletionPolicy() == elementsv1alpha1.DeletionPolicyOrphan:
		return orphanByPolicy
	case deletionProtected(obj) && mayHaveInstance(obj):
		return protectedWait
	}
	return deleteAtPlatform
}

// deletionProtected: the protection annotation is "true". Admission cannot
// check annotation values (a CRD's rules see only metadata.name and
// generateName), so any other value, "True" included, is off; the README
// says so.
func deletionProtected(obj *elementsv1alpha1.HubSpotInstance) bool {
	return obj.Annotations[elementsv1alpha1.DeletionProtectionAnnotation] == "true"
}

// mayHaveInstance: an instance is recorded, a create was started whose
// result was never recorded, or an import may have tagged an instance as
// this object's before status recorded it.
func mayHaveInstance(obj *elementsv1alpha1.HubSpotInstance) bool {
	return ownedInstanceID(obj) != 0 || obj.Annotations[elementsv1alpha1.CreatePendingAnnotation] != "" ||
		annotatedInstanceID(obj) != 0
}

// deletionProtectedOutcome says why the object stays, and the two ways on.
func deletionProtectedOutcome(obj *elementsv1alpha1.HubSpotInstance) outcome {
	what := "the element instance of an interrupted create"
	if id := ownedInstanceID(obj); id != 0 {
		what = "element instance " + formatID(id)
	}
	return outcome{reason: elementsv1alpha1.ReasonDeletionProtected, stalled: true, message: fmt.Sprintf(
		"annotation %[1]s is \"true\": %[2]s is not deleted at Cloud Elements, and this object stays until it may be. "+
			"To delete both, remove the annotation (kubectl annotate hsi %[3]s -n %[4]s %[1]s-); "+
			"to keep the instance and let this object go, set spec.deletionPolicy to Orphan",
		elementsv1alpha1.DeletionProtectionAnnotation, what, obj.Name, obj.Namespace)}
}

// deleteInstance deletes the instances proven to be this object's: the one
// status recorded, once a GET shows that no other object has claimed it
// since, or, when status recorded none, those found by the object's own
// owner tag — once a create that may still commit has had its grace period.
// The import annotation is never proof: anyone who may create an object may
// write it, naming any instance of the account.
func (r *HubSpotInstanceReconciler) deleteInstance(ctx context.Context, s *session) error {
	obj := s.obj
	if !mayHaveInstance(obj) {
		return nil
	}
	marker := obj.Annotations[elementsv1alpha1.CreatePendingAnnotation]
	api, in, err := r.releasingAPI(ctx, obj)
	if err != nil {
		return err
	}
	var ours []cloudelements.Instance
	var contested []int64
	if id := ownedInstanceID(obj); id != 0 {
		inst, err := api.GetInstance(ctx, id)
		switch {
		case cloudelements.IsNotFound(err) && obj.Status.InstanceAccount != "" && obj.Status.InstanceAccount != accountKey(r.hashKey, in):
			return accountChangedError(obj, id, "does not let this object go, which would leave the instance behind unseen")
		case cloudelements.IsNotFound(err):
			return nil
		case err != nil:
			return classifyAPIError("checking element instance "+formatID(id)+" before deleting it", err)
		}
		// Recorded, so this object's unless another incarnation holds it
		// now; an instance recorded before owner tags existed has none.
		if _, held := heldElsewhere(inst.Tags, r.identityOf(obj)); held {
			contested = []int64{id}
		} else {
			ours = []cloudelements.Instance{*inst}
		}
	} else {
		found, err := findOwnedInstances(ctx, api, obj)
		if err != nil {
			return classifyAPIError("looking up an interrupted create before deleting", err)
		}
		decision, wait := decideCreate(marker, s.mem.refusedMarker, r.now(), r.createGrace)
		if len(found) == 0 && decision == waitForInFlight {
			return &reconcileError{reason: elementsv1alpha1.ReasonDeletionBlocked, retryAfter: wait,
				err: fmt.Errorf("a create started at %s may still commit at Cloud Elements; deleting once it has had %s",
					parseCreateMarker(marker).at.UTC().Format(time.RFC3339), r.createGrace)}
		}
		// Found by this incarnation's owner tags: each is held by it alone,
		// or contested, never merely of its identity.
		ours, contested, _ = sortFound(found, r.identityOf(obj))
	}
	for _, id := range contested {
		r.event(obj, corev1.EventTypeWarning, elementsv1alpha1.EventReasonOrphaned, "Delete",
			"element instance "+formatID(id)+" is held by another object, or by another live incarnation of this one (its owner tag is not this object's): it is not this object's to delete, and is left at Cloud Elements")
	}
	for _, inst := range ours {
		if err := api.DeleteInstance(ctx, inst.ID); err != nil && !cloudelements.IsNotFound(err) {
			return classifyAPIError("deleting element instance "+formatID(inst.ID), err)
		}
		r.event(obj, corev1.EventTypeNormal, elementsv1alpha1.EventReasonDeleted, "Delete", "deleted element instance "+formatID(inst.ID))
	}
	return nil
}

// handOver re-tags an orphaned instance with the identity the hand-over
// annotation names (same cluster), dropping this incarnation's owner tag,
// so that the object of that namespace and name adopts it: the one way an
// instance moves to another namespace or name, decided on the releasing
// side.
func (r *HubSpotInstanceReconciler) handOver(ctx context.Context, obj *elementsv1alpha1.HubSpotInstance) error {
	to, asked := obj.Annotations[elementsv1alpha1.HandOverAnnotation]
	id := ownedInstanceID(obj)
	if !asked || id == 0 {
		return nil
	}
	namespace, name, ok := strings.Cut(to, "/")
	if !ok || len(validation.IsDNS1123Label(namespace)) > 0 || len(validation.IsDNS1123Subdomain(name)) > 0 {
		return stalledError(elementsv1alpha1.ReasonDeletionBlocked,
			"annotation %s must be <namespace>/<name> of the object to adopt element instance %d, got %q: fix or remove it",
			elementsv1alpha1.HandOverAnnotation, id, boundedText(to, maxListedItem))
	}
	if r.clusterName == "" {
		return stalledError(elementsv1alpha1.ReasonDeletionBlocked,
			"annotation %s needs the operator to run with a cluster name (--cluster-name), which identities are made of: remove it to orphan element instance %d as it is",
			elementsv1alpha1.HandOverAnnotation, id)
	}
	api, _, err := r.releasingAPI(ctx, obj)
	if err != nil {
		return err
	}
	inst, err := api.GetInstance(ctx, id)
	switch {
	case cloudelements.IsNotFound(err):
		return nil
	case err != nil:
		return classifyAPIError("reading element instance "+formatID(id)+" to hand it over", err)
	}
	if _, held := heldElsewhere(inst.Tags, r.identityOf(obj)); held {
		// Not this object's to give any more: it is left as it is.
		return nil
	}
	tags := userTags(inst.Tags)
	tags = append(tags, elementsv1alpha1.NameTag(namespace, name), elementsv1alpha1.ClusterTag(r.clusterName), elementsv1alpha1.ManagedTag)
	if _, err := api.PatchInstance(ctx, id, cloudelements.InstancePatch{Tags: tags}); err != nil {
		return classifyAPIError("re-tagging element instance "+formatID(id)+" for "+to, err)
	}
	r.event(obj, corev1.EventTypeNormal, elementsv1alpha1.EventReasonHandedOver, "Delete",
		"element instance "+formatID(id)+" is re-tagged for "+to+", which adopts it when it exists (cluster "+strconv.Quote(r.clusterName)+")")
	return nil
}

// releasingAPI connects to the platform the recorded instance lives on, to
// delete or hand it over, with the credentials at hand.
func (r *HubSpotInstanceReconciler) releasingAPI(ctx context.Context, obj *elementsv1alpha1.HubSpotInstance) (ElementAPI, *inputs, error) {
	if err := checkPlatformUnchanged(obj, elementsv1alpha1.ReasonDeletionBlocked); err != nil {
		return nil, nil, err
	}
	in, err := r.resolveCredentials(ctx, obj)
	if err != nil {
		return nil, nil, err
	}
	api, err := r.newElementAPI(in.endpoint, in.userSecret, in.organizationSecret)
	if err != nil {
		return nil, nil, stalledError(elementsv1alpha1.ReasonDeletionBlocked, "spec.platform.endpoint: %w", err)
	}
	return api, in, nil
}

// releasedNameTag is the name tag an instance carries once a deletion lets
// it go: the object's own after deletionPolicy Orphan, or the one its
// hand-over names; "" when nothing is let go to another object of this
// cluster (a deletion, or an observed instance, which carries no tags of
// ours).
func (r *HubSpotInstanceReconciler) releasedNameTag(obj *elementsv1alpha1.HubSpotInstance, d deletion) string {
	if d != orphanByPolicy || r.clusterName == "" {
		return ""
	}
	if namespace, name, ok := strings.Cut(obj.Annotations[elementsv1alpha1.HandOverAnnotation], "/"); ok {
		return elementsv1alpha1.NameTag(namespace, name)
	}
	return r.identityOf(obj).nameTag
}
