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
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
)

// syncInstance keeps a known instance carrying the desired configuration,
// calling Cloud Elements only when something changed or a drift poll is due.
func (r *HubSpotInstanceReconciler) syncInstance(ctx context.Context, s *session) error {
	obj := s.obj
	id := instanceIDOf(obj)
	if id == 0 {
		return nil
	}
	if err := r.ensureFinalizer(ctx, s); err != nil {
		return err
	}

	var inst *cloudelements.Instance
	var err error
	switch decideSync(r.accountChanged(s), r.reauthorizationDue(s), obj.Status.AppliedConfigurationHash != s.hash,
		reconcileRequested(obj), r.pollDue(s) || s.tokenSecret.needsToken()) {
	case lookWithNewCredentials:
		// New credentials: the instance must be found with them before
		// anything is sent; a rotation of the same account's secrets
		// finds it, another account's do not.
		r.lookAgainUntilSeen(s)
		inst, err = s.api.GetInstance(ctx, id)
	case reauthorize:
		inst, err = s.api.ReauthorizeInstance(ctx, id, reauthorizationRequest(obj, s.in, s.desired))
		if cloudelements.IsInvalidRequest(err) {
			// A refused code cannot be used again: drop ours so a fresh
			// consent link is published.
			r.consumeCode(ctx, s)
		}
		if err == nil {
			r.consumeCode(ctx, s)
			r.announce(s, elementsv1alpha1.EventReasonReauthorized, "Reauthorize", "element instance "+formatID(id)+" re-authorized")
			r.recordApplied(s)
		}
	case update:
		inst, err = r.updateInstance(ctx, s, id)
		if err == nil && (s.imported != nil || s.adopted != nil) {
			// Another object importing the same instance at the same time
			// passed the same check, and the platform keeps the last
			// write's tags: read them back, and only the object whose owner
			// tag stayed records the instance.
			inst, err = s.api.GetInstance(ctx, id)
			if err == nil {
				err = r.checkClaim(obj, inst)
			}
		}
		if err == nil {
			// An adoption's Adopted Event already says what happened.
			if s.adopted == nil {
				reason := elementsv1alpha1.EventReasonUpdated
				if obj.Status.AppliedConfigurationHash == "" {
					reason = elementsv1alpha1.EventReasonImported
				}
				r.announce(s, reason, "Update", "element instance "+formatID(id)+" configuration applied")
			}
			r.recordApplied(s)
		}
	case lookOnRequest:
		r.lookAgainUntilSeen(s)
		inst, err = s.api.GetInstance(ctx, id)
	case poll:
		r.lookAgainUntilSeen(s)
		inst, err = r.listedOrGet(ctx, s, id)
	case noCall:
		r.keepRecorded(s, id)
		return nil
	}
	var classified *reconcileError
	switch {
	case errors.As(err, &classified):
		return err
	case cloudelements.IsNotFound(err):
		return r.forgetVanishedInstance(ctx, s, id)
	case err != nil:
		return classifyAPIError("element instance "+formatID(id), err)
	}
	if err := r.checkClaim(obj, inst); err != nil {
		return err
	}
	r.recordAnswer(s, inst)
	return nil
}

// syncCall is what syncInstance asks Cloud Elements.
type syncCall int

const (
	// noCall: status says all there is; nothing is asked.
	noCall syncCall = iota
	// lookWithNewCredentials reads the instance with the credentials now
	// at hand before anything is sent with them.
	lookWithNewCredentials
	// reauthorize sends the new authorization through the platform's
	// re-authentication call.
	reauthorize
	// update applies the desired configuration.
	update
	// lookOnRequest reads the instance because a person asked.
	lookOnRequest
	// poll reads the instance, from the account's listing when it just
	// showed it.
	poll
)

// decideSync chooses the call for a recorded instance, first match wins:
// new credentials must find the instance before anything is sent with them;
// a fresh authorization goes before a configuration change (the
// re-authentication call carries the configuration too); a person's request
// or a due poll only reads.
func decideSync(accountChanged, reauthorizationDue, configurationChanged, requested, pollDue bool) syncCall {
	switch {
	case accountChanged:
		return lookWithNewCredentials
	case reauthorizationDue:
		return reauthorize
	case configurationChanged:
		return update
	case requested:
		return lookOnRequest
	case pollDue:
		return poll
	}
	return noCall
}

// forgetVanishedInstance handles a 404 for an instance we knew: it was
// deleted behind our back, so its record is dropped and createInstance makes
// it again through the exactly-once path. An id that was only ever given in
// the import annotation is a user error.
func (r *HubSpotInstanceReconciler) forgetVanishedInstance(ctx context.Context, s *session, id int64) error {
	obj := s.obj
	if obj.Status.InstanceID != id {
		return stalledError(elementsv1alpha1.ReasonInvalidConfiguration,
			"annotation %s names element instance %d, which does not exist at Cloud Elements", elementsv1alpha1.InstanceIDAnnotation, id)
	}
	if r.accountChanged(s) {
		return accountChangedError(obj, id, "creates no new instance")
	}
	r.event(obj, corev1.EventTypeWarning, elementsv1alpha1.EventReasonInstanceMissing, "Recreate",
		"element instance "+formatID(id)+" no longer exists at Cloud Elements; creating it again")
	if _, annotated := obj.Annotations[elementsv1alpha1.InstanceIDAnnotation]; annotated {
		// Recorded by an import, or by an earlier version of the operator.
		if err := r.patchObject(ctx, s, func(o *elementsv1alpha1.HubSpotInstance) {
			delete(o.Annotations, elementsv1alpha1.InstanceIDAnnotation)
		}); err != nil {
			return fmt.Errorf("forgetting vanished instance %d: %w", id, err)
		}
	}
	obj.Status.InstanceID = 0
	obj.Status.AppliedConfigurationHash = ""
	obj.Status.Valid = false
	return nil
}

// reauthorizationDue: new credentials are at hand that were never sent — a
// fresh OAuth 2 code, new OAuth 2 Legacy tokens, or a new API key for an
// instance that lost its authorization. They go through the platform's
// re-authentication call, which keeps the instance id. (A new API key for a
// healthy instance is simply part of the configuration update.)
func (r *HubSpotInstanceReconciler) reauthorizationDue(s *session) bool {
	fresh := s.authHash != "" && s.authHash != s.obj.Status.AppliedAuthorizationHash
	return fresh && (s.obj.Spec.Auth.Type != elementsv1alpha1.AuthTypeAPIKey || !s.obj.Status.Valid)
}

// recordApplied records that the desired configuration and authorization reached
// the platform.
func (r *HubSpotInstanceReconciler) recordApplied(s *session) {
	s.obj.Status.AppliedConfigurationHash = s.hash
	s.obj.Status.AppliedAuthorizationHash = s.authHash
	s.obj.Status.LastSyncTime = r.metaNow()
}

// recordAnswer copies what Cloud Elements said about the instance into status.
func (r *HubSpotInstanceReconciler) recordAnswer(s *session, inst *cloudelements.Instance) {
	s.instance = inst
	obj := s.obj
	obj.Status.InstanceID = inst.ID
	obj.Status.InstancePlatform = platformIdentity(obj)
	if s.in != nil {
		obj.Status.InstanceAccount = accountKey(r.hashKey, s.in)
	}
	obj.Status.InstanceName = s.desired.Name
	obj.Status.Valid = inst.Valid
	obj.Status.Disabled = inst.Disabled
	digest, shape := r.tokenHash(obj.UID, inst.Token), ""
	if obj.Spec.ObserveOnly() {
		shape = shapeDigest(*inst)
	}
	now := r.now()
	s.remember(func(m *remembered) {
		m.verifiedAt, m.pollNow, m.listed, m.tokenDigest, m.shapeDigest = now, false, nil, digest, shape
	})
	r.watchDrift(s, inst.ID, inst.Valid, inst.Disabled, digest, false)
}

// keepRecorded fills status from what was recorded when no call was due.
func (r *HubSpotInstanceReconciler) keepRecorded(s *session, id int64) {
	s.obj.Status.InstanceID = id
	s.obj.Status.InstanceName = s.desired.Name
	token, inherited := r.lastSeenToken(s)
	r.watchDrift(s, id, s.obj.Status.Valid, s.obj.Status.Disabled, token, inherited)
}

// lastSeenToken is the hash of the token this process last saw, or, after a
// restart, the one status recorded (inherited, for the listing to verify).
func (r *HubSpotInstanceReconciler) lastSeenToken(s *session) (string, bool) {
	if token := s.mem.tokenDigest; token != "" || s.tokenSecret.inheritedToken == "" {
		return token, false
	}
	return s.tokenSecret.inheritedToken, true
}

// watchDrift puts the object's instance under its account's listing, with
// what the object last saw of it.
func (r *HubSpotInstanceReconciler) watchDrift(s *session, id int64, valid, disabled bool, token string, inherited bool) {
	if r.drift == nil || s.in == nil {
		return
	}
	m := member{id: id, valid: valid, disabled: disabled, tokenDigest: token, inherited: inherited,
		interval: s.obj.Spec.GetPollInterval(), uid: s.obj.UID, owner: s.obj.OwnerTag()}
	if s.obj.Spec.ObserveOnly() {
		m.observeOnly, m.shape = true, s.mem.shapeDigest
	}
	r.drift.watch(client.ObjectKeyFromObject(s.obj), accountKey(r.hashKey, s.in), s.api, m)
}

// accountChanged: the credentials at hand are not those the recorded
// instance was last seen with. Objects recorded before the account was
// (an empty hash) are taken as unchanged until their next look records it.
func (r *HubSpotInstanceReconciler) accountChanged(s *session) bool {
	recorded := s.obj.Status.InstanceAccount
	return recorded != "" && s.in != nil && recorded != accountKey(r.hashKey, s.in)
}

// accountChangedError stops an object whose recorded instance is not found
// with changed credentials: Cloud Elements answers 404 for another
// account's instance too, so "gone" cannot be told from "elsewhere".
func accountChangedError(obj *elementsv1alpha1.HubSpotInstance, id int64, what string) error {
	return stalledError(elementsv1alpha1.ReasonAccountChanged,
		"element instance %d is not found with the credentials now in Secret %s, which are not those it was last seen with: it may live in another account, so the operator %s; put back the credentials of the account it lives in, or delete this object with deletionPolicy Orphan and create a new one",
		id, obj.Spec.Platform.CredentialsSecretRef.Name, what)
}

// accountKey names an endpoint and account without holding its secrets.
func accountKey(hashKey []byte, in *inputs) string {
	return keyedHash(hashKey, "account", in.endpoint, in.userSecret, in.organizationSecret)
}

// lookAgainUntilSeen keeps the instance due for a look until recordAnswer
// records one: a failed look must be retried by the next reconcile, not
// forgotten until the next listing.
func (r *HubSpotInstanceReconciler) lookAgainUntilSeen(s *session) {
	s.remember(func(m *remembered) { m.pollNow = true })
}

// listedFreshFor is how long what a listing showed may stand in for a GET.
const listedFreshFor = time.Minute

// listedOrGet is the instance as the account's listing just showed it, or,
// when the listing did not show it, as a GET does.
func (r *HubSpotInstanceReconciler) listedOrGet(ctx context.Context, s *session, id int64) (*cloudelements.Instance, error) {
	if m := s.mem; m.listed != nil && m.listed.ID == id && r.now().Sub(m.listedAt) < listedFreshFor {
		return m.listed, nil
	}
	return s.api.GetInstance(ctx, id)
}
