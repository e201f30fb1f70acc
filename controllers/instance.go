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
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"slices"
	"strconv"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
)

const defaultPollInterval = 10 * time.Minute

// reconcileInstance makes sure the element instance exists and carries the
// desired configuration, calling Cloud Elements only when something changed
// or a drift poll is due.
func (r *HubSpotInstanceReconciler) reconcileInstance(ctx context.Context, s *session) (bool, error) {
	obj := s.obj
	id := instanceIDOf(obj)
	if id == 0 {
		return r.provision(ctx, s)
	}
	if err := r.ensureFinalizer(ctx, obj); err != nil {
		return false, err
	}

	var inst *cloudelements.Instance
	var err error
	switch {
	case obj.Status.AppliedConfigurationHash != s.hash:
		inst, err = s.api.UpdateInstance(ctx, id, s.desired)
		if err == nil {
			reason := "Updated"
			if obj.Status.AppliedConfigurationHash == "" {
				reason = "Imported"
			}
			r.announce(s, reason, "Update", "element instance "+formatID(id)+" configuration applied")
			obj.Status.AppliedConfigurationHash = s.hash
			obj.Status.LastSyncTime = r.metaNow()
		}
	case r.pollDue(obj) || s.tokenSecret.needsToken() || reconcileRequested(obj):
		inst, err = s.api.GetInstance(ctx, id)
	default:
		r.observeRecorded(s, id)
		return false, nil
	}
	if cloudelements.IsNotFound(err) {
		return r.instanceVanished(ctx, s, id)
	}
	if err != nil {
		return false, classifyAPIError("element instance "+formatID(id), err)
	}
	r.observe(s, inst)
	return false, nil
}

// provision creates the instance — exactly once, even across crashes — or,
// for OAuth 2 without a code, asks a person to consent first.
func (r *HubSpotInstanceReconciler) provision(ctx context.Context, s *session) (bool, error) {
	obj := s.obj
	if obj.Annotations[elementsv1alpha1.CreatePendingAnnotation] != "" && !r.memory().get(obj).createRefused {
		// A create was started and its result never recorded: the instance
		// may exist. Look it up by owner tag rather than guess.
		found, err := s.api.ListInstances(ctx, func(i cloudelements.Instance) bool { return slices.Contains(i.Tags, ownerTag(obj)) })
		if err != nil {
			return false, classifyAPIError("looking up an interrupted create", err)
		}
		if len(found) > 0 {
			if err := r.recordInstanceID(ctx, obj, found[0].ID); err != nil {
				return false, err
			}
			r.announce(s, "Adopted", "Create",
				"found element instance "+formatID(found[0].ID)+" from an interrupted create by its owner tag")
			// What it was created with is unknown here: the update path
			// re-applies the desired configuration once.
			obj.Status.AppliedConfigurationHash = ""
			return r.reconcileInstance(ctx, s)
		}
	}

	pd := providerDataFor(obj, s.in)
	if obj.Spec.Auth.Type == elementsv1alpha1.AuthTypeOAuth2 && s.in.code == "" {
		return r.awaitAuthorization(ctx, s, elementsv1alpha1.ReasonAwaitingAuthorization)
	}
	if err := r.markCreatePending(ctx, obj); err != nil {
		return false, err
	}
	req := s.desired
	req.ProviderData = pd
	inst, err := s.api.CreateInstance(ctx, req)
	r.memory().update(obj, func(m *remembered) { m.createRefused = err != nil && nothingCreated(err) })
	if err != nil {
		if cloudelements.IsInvalidRequest(err) {
			// A refused code cannot be used again: drop ours so a fresh
			// authorization URL is published.
			r.consumeCode(ctx, s)
		}
		return false, classifyAPIError("creating the element instance", err)
	}
	if err := r.recordInstanceID(ctx, obj, inst.ID); err != nil {
		return false, err
	}
	r.consumeCode(ctx, s)
	r.announce(s, "Created", "Create", "created element instance "+formatID(inst.ID))
	obj.Status.AppliedConfigurationHash = s.hash
	obj.Status.LastSyncTime = r.metaNow()
	r.observe(s, inst)
	return false, nil
}

// nothingCreated reports whether a failed create certainly created nothing:
// it was refused (4xx, 429, 503 — the server says it did not handle the
// request), stopped by our own rate limiter, or never connected. After a
// timeout, a 500 or a 502 the instance may exist, and only the owner-tag
// lookup can tell.
func nothingCreated(err error) bool {
	var apiErr *cloudelements.APIError
	if errors.As(err, &apiErr) {
		code := apiErr.StatusCode
		return (code >= 400 && code < 500 && code != http.StatusRequestTimeout) || code == http.StatusServiceUnavailable
	}
	return errors.Is(err, cloudelements.ErrClientRateLimited) || errors.Is(err, syscall.ECONNREFUSED)
}

// instanceVanished handles a 404 for an instance we knew: it was deleted
// behind our back, so it is created again through the exactly-once path. An
// id that was only ever given in the import annotation is a user error.
func (r *HubSpotInstanceReconciler) instanceVanished(ctx context.Context, s *session, id int64) (bool, error) {
	obj := s.obj
	if obj.Status.InstanceID != id {
		return false, stalledError(elementsv1alpha1.ReasonInvalidConfiguration,
			"annotation %s names element instance %d, which does not exist at Cloud Elements", elementsv1alpha1.InstanceIDAnnotation, id)
	}
	r.event(obj, corev1.EventTypeWarning, "InstanceMissing", "Recreate",
		"element instance "+formatID(id)+" no longer exists at Cloud Elements; creating it again")
	patch := client.MergeFrom(obj.DeepCopy())
	delete(obj.Annotations, elementsv1alpha1.InstanceIDAnnotation)
	if err := r.Patch(ctx, obj, patch); err != nil {
		return false, fmt.Errorf("forgetting vanished instance %d: %w", id, err)
	}
	r.rememberWrite(obj)
	obj.Status.InstanceID = 0
	obj.Status.AppliedConfigurationHash = ""
	obj.Status.Valid = false
	return r.provision(ctx, s)
}

// observe copies what Cloud Elements said about the instance into status.
func (r *HubSpotInstanceReconciler) observe(s *session, inst *cloudelements.Instance) {
	s.instance = inst
	obj := s.obj
	obj.Status.InstanceID = inst.ID
	obj.Status.InstanceName = s.desired.Name
	obj.Status.Valid = inst.Valid
	obj.Status.Disabled = inst.Disabled
	if obj.Status.AuthorizationURL != "" && inst.Valid {
		obj.Status.AuthorizationURL = ""
		obj.Status.AuthorizationNonce = ""
		obj.Status.AuthorizationExpiresAt = nil
	}
	r.memory().update(obj, func(m *remembered) { m.verifiedAt = r.now() })
}

// observeRecorded fills status from what was recorded when no call was due.
func (r *HubSpotInstanceReconciler) observeRecorded(s *session, id int64) {
	s.obj.Status.InstanceID = id
	s.obj.Status.InstanceName = s.desired.Name
}

// markCreatePending records, with a write that fails if our copy is stale,
// that a create is about to happen. Two reconciles racing on one object can
// therefore never both create. The finalizer rides along: from here on there
// may be something to clean up.
func (r *HubSpotInstanceReconciler) markCreatePending(ctx context.Context, obj *elementsv1alpha1.HubSpotInstance) error {
	if obj.Annotations[elementsv1alpha1.CreatePendingAnnotation] != "" &&
		controllerutil.ContainsFinalizer(obj, elementsv1alpha1.Finalizer) {
		// Already marked, and the owner-tag lookup just found nothing.
		return nil
	}
	patch := client.MergeFromWithOptions(obj.DeepCopy(), client.MergeFromWithOptimisticLock{})
	if obj.Annotations == nil {
		obj.Annotations = map[string]string{}
	}
	obj.Annotations[elementsv1alpha1.CreatePendingAnnotation] = r.now().UTC().Format(time.RFC3339)
	controllerutil.AddFinalizer(obj, elementsv1alpha1.Finalizer)
	if err := r.Patch(ctx, obj, patch); err != nil {
		return fmt.Errorf("recording a pending create: %w", err)
	}
	r.rememberWrite(obj)
	return nil
}

// recordInstanceID makes the instance id durable on the object the moment it
// is known, and clears the pending marker.
func (r *HubSpotInstanceReconciler) recordInstanceID(ctx context.Context, obj *elementsv1alpha1.HubSpotInstance, id int64) error {
	patch := client.MergeFrom(obj.DeepCopy())
	if obj.Annotations == nil {
		obj.Annotations = map[string]string{}
	}
	obj.Annotations[elementsv1alpha1.InstanceIDAnnotation] = formatID(id)
	delete(obj.Annotations, elementsv1alpha1.CreatePendingAnnotation)
	controllerutil.AddFinalizer(obj, elementsv1alpha1.Finalizer)
	if err := r.Patch(ctx, obj, patch); err != nil {
		return fmt.Errorf("recording element instance %d: %w", id, err)
	}
	r.rememberWrite(obj)
	obj.Status.InstanceID = id
	return nil
}

func (r *HubSpotInstanceReconciler) ensureFinalizer(ctx context.Context, obj *elementsv1alpha1.HubSpotInstance) error {
	if controllerutil.ContainsFinalizer(obj, elementsv1alpha1.Finalizer) {
		return nil
	}
	patch := client.MergeFrom(obj.DeepCopy())
	controllerutil.AddFinalizer(obj, elementsv1alpha1.Finalizer)
	if err := r.Patch(ctx, obj, patch); err != nil {
		return fmt.Errorf("adding finalizer: %w", err)
	}
	r.rememberWrite(obj)
	return nil
}

// pollDue says whether the drift poll is due: never verified by this
// process, or verified longer than pollInterval ago.
func (r *HubSpotInstanceReconciler) pollDue(obj *elementsv1alpha1.HubSpotInstance) bool {
	return r.untilPollDue(obj) <= 0
}

func (r *HubSpotInstanceReconciler) untilPollDue(obj *elementsv1alpha1.HubSpotInstance) time.Duration {
	verified := r.memory().get(obj).verifiedAt
	if verified.IsZero() {
		return 0
	}
	interval := pollInterval(obj)
	// A stable per-object jitter of up to 5% spreads the polls of many
	// objects created together, without ever polling more often than asked.
	h := fnv.New32a()
	_, _ = h.Write([]byte(obj.UID))
	jitter := time.Duration(float64(interval) * 0.05 * float64(h.Sum32()%1000) / 1000)
	return verified.Add(interval + jitter).Sub(r.now())
}

// reconcileRequested: a person asked for a full check now, the Flux way.
func reconcileRequested(obj *elementsv1alpha1.HubSpotInstance) bool {
	requested := obj.Annotations[elementsv1alpha1.ReconcileRequestAnnotation]
	return requested != "" && requested != obj.Status.LastHandledReconcileAt
}

func pollInterval(obj *elementsv1alpha1.HubSpotInstance) time.Duration {
	if obj.Spec.PollInterval != nil && obj.Spec.PollInterval.Duration >= 30*time.Second {
		return obj.Spec.PollInterval.Duration
	}
	return defaultPollInterval
}

// instanceIDOf is the recorded instance id: the annotation is the durable
// record (and the import request); status mirrors it.
func instanceIDOf(obj *elementsv1alpha1.HubSpotInstance) int64 {
	if v := obj.Annotations[elementsv1alpha1.InstanceIDAnnotation]; v != "" {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
			return id
		}
	}
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
