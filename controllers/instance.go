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
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
)

// adoptOwnInstance finds, before anything is created, an instance that is
// already this object's: one an interrupted create made (found by its
// owner tag, once the create has had its grace period), or one of its
// identity that no incarnation holds any longer (found by its name tag: a
// cluster rebuilt from Git, an object re-applied after deletionPolicy
// Orphan, a restore without status). Found, it is recorded, and
// syncInstance re-applies the desired configuration and tags at once,
// reading the tags back so that of two incarnations adopting at once only
// one keeps it.
func (r *HubSpotInstanceReconciler) adoptOwnInstance(ctx context.Context, s *session) error {
	obj := s.obj
	if instanceIDOf(obj) != 0 {
		return nil
	}
	marker := obj.Annotations[elementsv1alpha1.CreatePendingAnnotation]
	byOwnerTag := false
	if marker != "" {
		mem := s.mem
		if c := mem.created; c != nil && c.marker == marker {
			// Ours, and its status write was lost: this one records it.
			r.recordCreated(obj, c)
			return nil
		}
		decision, wait := decideCreate(marker, mem.refusedMarker, r.now(), r.createGrace)
		if decision == waitForInFlight {
			m := parseCreateMarker(marker)
			s.conclude(outcome{reason: elementsv1alpha1.ReasonProgressing, progressing: true,
				message: fmt.Sprintf("a create started at %s has not been confirmed; the instance is looked up by its owner tag in %s, before any new create",
					m.at.UTC().Format(time.RFC3339), wait.Round(time.Second))})
			s.requeueAfter, s.awaitingCreate = wait, true
			return nil
		}
		byOwnerTag = decision == lookUpFirst
	}
	if !byOwnerTag && (r.clusterName == "" ||
		r.drift.identityUnseen(accountKey(r.hashKey, s.in), elementsv1alpha1.NameTag(obj.Namespace, obj.Name))) {
		return nil
	}
	found, err := r.findOwnInstances(ctx, s, byOwnerTag)
	if err != nil {
		return classifyAPIError("looking up this object's instance by its tags before creating one", err)
	}
	adoptable, contested, elsewhere := sortFound(found, r.identityOf(obj))
	if len(contested) > 0 || len(adoptable) > 1 {
		return ambiguousAdoption(adoptable, contested)
	}
	if len(adoptable) == 0 {
		s.elsewhere = elsewhere
		return nil
	}
	r.adopt(s, adoptable[0])
	return nil
}

// findOwnInstances lists the instances that may be this object's: by its
// owner tags after an interrupted create, else by its name tag. A create
// marker is written only after the name tag was looked up (or the object's
// own instance vanished) in the same reconcile, so after an interrupted
// create the owner tags alone can find anything new: that create's own
// instance.
func (r *HubSpotInstanceReconciler) findOwnInstances(ctx context.Context, s *session, byOwnerTag bool) ([]cloudelements.Instance, error) {
	if byOwnerTag {
		return findOwnedInstances(ctx, s.api, s.obj)
	}
	return s.api.FindInstancesByTag(ctx, elementsv1alpha1.NameTag(s.obj.Namespace, s.obj.Name))
}

// sortFound splits what the lookups found, each instance once: what this
// incarnation may adopt (its own, or its identity's), what it must not touch
// and makes it stop (claimed by another object as well), and what only
// carries its namespace and name under another cluster name.
func sortFound(found []cloudelements.Instance, id identity) (adoptable []cloudelements.Instance, contested []int64, elsewhere []cloudelements.Instance) {
	seen := map[int64]bool{}
	for _, inst := range found {
		if seen[inst.ID] {
			continue
		}
		seen[inst.ID] = true
		switch relationOf(inst.Tags, id) {
		case heldByUs, ourIdentity:
			adoptable = append(adoptable, inst)
		case otherCluster:
			elsewhere = append(elsewhere, inst)
		default:
			contested = append(contested, inst.ID)
		}
	}
	return adoptable, contested, elsewhere
}

// adopt records an instance found by its tags as this object's. What it was
// last authorized with is unknown, so the authorization at hand is taken as
// applied while the instance is valid: an adoption never re-authorizes (nor
// asks for consent) for nothing. The configuration is re-applied, which
// re-tags it as this incarnation's.
func (r *HubSpotInstanceReconciler) adopt(s *session, inst cloudelements.Instance) {
	obj := s.obj
	obj.Status.InstanceID = inst.ID
	obj.Status.Valid, obj.Status.Disabled = inst.Valid, inst.Disabled
	obj.Status.AppliedConfigurationHash = ""
	if inst.Valid {
		obj.Status.AppliedAuthorizationHash = s.authHash
	}
	held := relationOf(inst.Tags, r.identityOf(obj)) == heldByUs
	if applying := parseCreateMarker(obj.Annotations[elementsv1alpha1.CreatePendingAnnotation]).applying; held && applying != "" && applying == s.hash {
		// Our own create, sent with the configuration the spec still asks
		// for: re-sending it would be a write for nothing (and one per
		// manager when two adopt it).
		obj.Status.AppliedConfigurationHash = s.hash
	}
	s.adopted = &inst
	how := "by its owner tag, from an interrupted create"
	if !held {
		how = "by this object's identity (cluster " + strconv.Quote(r.clusterName) + ", " + obj.Namespace + "/" + obj.Name + "), held by no live incarnation: no new instance"
	}
	r.announce(s, elementsv1alpha1.EventReasonAdopted, "Create", "found element instance "+formatID(inst.ID)+" "+how)
}

// ambiguousAdoption refuses to pick among the instances an owner-tag lookup
// found: taking the first would be a guess, and a wrong guess hands this
// object (and its deletion) an instance that is not its own.
func ambiguousAdoption(ours []cloudelements.Instance, contested []int64) error {
	ids := make([]int64, 0, len(ours)+len(contested))
	for _, inst := range ours {
		ids = append(ids, inst.ID)
	}
	ids = append(ids, contested...)
	return stalledError(elementsv1alpha1.ReasonInvalidConfiguration,
		"looking up this object's instance by its tags found element instances %s, of which %d are also claimed by another object: the operator adopts none of them and creates none; delete the ones that are not this object's at Cloud Elements, or name this object's with annotation %s",
		boundedList(formatIDs(ids)), len(contested), elementsv1alpha1.InstanceIDAnnotation)
}

func formatIDs(ids []int64) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = formatID(id)
	}
	return out
}

// verifyImport checks an instance named by the import annotation before the
// operator touches it: it must be a hubspotcrm instance, and not carry
// another object's owner tag — otherwise a namespace user could take over
// (rewrite, read the token of, delete) any instance of the account. Once an
// instance is recorded, the annotation cannot switch to another one.
func (r *HubSpotInstanceReconciler) verifyImport(ctx context.Context, s *session) error {
	obj := s.obj
	named, recorded := annotatedInstanceID(obj), obj.Status.InstanceID
	switch {
	case named == 0 || named == recorded:
		return nil
	case recorded != 0:
		return stalledError(elementsv1alpha1.ReasonInvalidConfiguration,
			"annotation %s names element instance %d, but this object's instance is %d: the operator never switches instances; set the annotation back to %d, or import %d with a new object",
			elementsv1alpha1.InstanceIDAnnotation, named, recorded, recorded, named)
	}
	inst, err := s.api.GetInstance(ctx, named)
	if cloudelements.IsNotFound(err) {
		return stalledError(elementsv1alpha1.ReasonInvalidConfiguration,
			"annotation %s names element instance %d, which does not exist at Cloud Elements", elementsv1alpha1.InstanceIDAnnotation, named)
	}
	if err != nil {
		return classifyAPIError("checking element instance "+formatID(named)+" before importing it", err)
	}
	if key := inst.Element.Key; key != "" && key != cloudelements.ElementKey {
		return stalledError(elementsv1alpha1.ReasonInvalidConfiguration,
			"element instance %d is an instance of element %q, not %s: it cannot be imported", named, key, cloudelements.ElementKey)
	}
	id := r.identityOf(obj)
	switch relationOf(inst.Tags, id) {
	case othersInstance:
		return stalledError(elementsv1alpha1.ReasonInvalidConfiguration,
			"element instance %d belongs to %s: the operator will not take it over", named, ownerNamed(inst.Tags, id))
	case otherCluster:
		return stalledError(elementsv1alpha1.ReasonInvalidConfiguration,
			"element instance %d belongs to %s/%s of cluster %s, and this operator's cluster name is %q: the operator will not take it over from another cluster",
			named, obj.Namespace, obj.Name, clusterNamed(inst.Tags), r.clusterName)
	}
	s.imported = inst
	return nil
}

// ownerOf reads "<namespace>/<name>" from an owner tag.
func ownerOf(tag string) string {
	rest := strings.TrimPrefix(tag, elementsv1alpha1.OwnerTagPrefix)
	if i := strings.LastIndex(rest, "/"); i > 0 {
		return rest[:i]
	}
	return rest
}

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
	switch {
	case r.accountChanged(s):
		// New credentials: the instance must be found with them before
		// anything is sent; a rotation of the same account's secrets
		// finds it, another account's do not.
		r.lookAgainUntilSeen(s)
		inst, err = s.api.GetInstance(ctx, id)
	case r.reauthorizationDue(s):
		inst, err = s.api.ReauthorizeInstance(ctx, id, reauthorizationRequest(obj, s.in, s.desired))
		if cloudelements.IsInvalidRequest(err) {
			// A refused code cannot be used again: drop ours so a fresh
			// consent link is published.
			r.consumeCode(ctx, s)
		}
		if err == nil {
			r.consumeCode(ctx, s)
			r.announce(s, elementsv1alpha1.EventReasonReauthorized, "Reauthorize", "element instance "+formatID(id)+" re-authorized")
			r.applied(s)
		}
	case obj.Status.AppliedConfigurationHash != s.hash:
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
			r.applied(s)
		}
	case reconcileRequested(obj):
		r.lookAgainUntilSeen(s)
		inst, err = s.api.GetInstance(ctx, id)
	case r.pollDue(s) || s.tokenSecret.needsToken():
		r.lookAgainUntilSeen(s)
		inst, err = r.listedOrGet(ctx, s, id)
	default:
		r.observeRecorded(s, id)
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
	r.observe(s, inst)
	return nil
}

// checkClaim stops an object whose instance another incarnation holds:
// another object imported it, or won a race to, or another incarnation of
// this very identity adopted it (two live objects of one identity). This
// one must neither change it nor copy its token any longer.
func (r *HubSpotInstanceReconciler) checkClaim(obj *elementsv1alpha1.HubSpotInstance, inst *cloudelements.Instance) error {
	id := r.identityOf(obj)
	tag, held := heldElsewhere(inst.Tags, id)
	switch {
	case !held:
		return nil
	case strings.HasPrefix(tag, id.nameTag+"/"):
		return stalledError(elementsv1alpha1.ReasonInstanceClaimed,
			"element instance %d is now held by another incarnation of %s/%s (owner tag %q): two objects of this identity are alive, in two clusters run with cluster name %q or in a restore beside the original; the one that adopted it last keeps it, and this one no longer changes it or copies its token. Check the --cluster-name of both operators, then delete this object with deletionPolicy Orphan",
			inst.ID, obj.Namespace, obj.Name, boundedText(tag, maxListedItem), r.clusterName)
	default:
		return stalledError(elementsv1alpha1.ReasonInstanceClaimed,
			"element instance %d belongs to %s (owner tag %q): another object imported it, so this one no longer changes it or copies its token; delete this object with deletionPolicy Orphan, or import another instance with a new object",
			inst.ID, ownerOf(tag), boundedText(tag, maxListedItem))
	}
}

// ownerNamed says, for a message, whose an instance is.
func ownerNamed(tags []string, id identity) string {
	if tag, held := heldElsewhere(tags, id); held {
		return ownerOf(tag) + " (owner tag " + quotedTag(tag) + ")"
	}
	for _, tag := range tags {
		if elementsv1alpha1.IsNameTag(tag) && tag != id.nameTag {
			return strings.TrimPrefix(tag, elementsv1alpha1.OwnerTagPrefix) + " (name tag " + quotedTag(tag) + ")"
		}
	}
	return "another object"
}

// quotedTag quotes tag text for a message, bounded: it may come from the
// platform.
func quotedTag(tag string) string { return strconv.Quote(boundedText(tag, maxListedItem)) }

// clusterNamed is the cluster an instance's cluster tag names.
func clusterNamed(tags []string) string {
	for _, tag := range tags {
		if cluster, ok := elementsv1alpha1.ClusterOf(tag); ok {
			return quotedTag(cluster)
		}
	}
	return "(none)"
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

// createInstance creates the instance — exactly once, even across crashes —
// or, for OAuth 2 without a code, asks a person to consent first.
func (r *HubSpotInstanceReconciler) createInstance(ctx context.Context, s *session) error {
	obj := s.obj
	if instanceIDOf(obj) != 0 {
		return nil
	}
	if obj.Spec.Auth.Type == elementsv1alpha1.AuthTypeOAuth2 && (s.in.code == "" || s.authHash == obj.Status.AppliedAuthorizationHash) {
		// No code, or one already spent (on an instance since deleted).
		return r.awaitAuthorization(ctx, s, elementsv1alpha1.ReasonAwaitingAuthorization)
	}
	// Protect the account Secret first: nothing that can fail may come
	// between the marker and the POST, or a young marker would hold up the
	// next attempt for the whole grace period.
	if obj.Spec.GetDeletionPolicy() == elementsv1alpha1.DeletionPolicyDelete {
		if err := r.addCredentialsFinalizer(ctx, obj); err != nil {
			return err
		}
	}
	marker := createMarker{at: r.now(), holder: r.holder, uid: obj.UID, applying: s.hash}
	if err := r.markCreatePending(ctx, s, marker); err != nil {
		return err
	}
	req := s.desired
	req.ProviderData = providerDataFor(obj, s.in)
	inst, err := s.api.CreateInstance(ctx, req)
	if err != nil && nothingCreated(err) {
		refused := marker.String()
		s.remember(func(m *remembered) { m.refusedMarker = refused })
	}
	if err != nil {
		if cloudelements.IsInvalidRequest(err) {
			// A refused code cannot be used again: drop ours so a fresh
			// consent link is published.
			r.consumeCode(ctx, s)
		}
		return createFailed(err)
	}
	// The id is recorded by the status write that ends this reconcile, and
	// the marker stays: one write to the object per create, not two. Should
	// the process die before that write, the marker is found, and the
	// instance by its owner tag once the grace period has passed. No Event:
	// status tells that the object became Ready, and at thousands of objects
	// an Event each is as many writes again.
	created := &createdInstance{marker: marker.String(), id: inst.ID,
		configurationHash: s.hash, authorizationHash: s.authHash, valid: inst.Valid, disabled: inst.Disabled}
	s.remember(func(m *remembered) { m.created = created })
	r.consumeCode(ctx, s)
	r.applied(s)
	r.observe(s, inst)
	r.tellElsewhere(s, inst.ID)
	return nil
}

// tellElsewhere says, once, that a new instance was created while one of
// this namespace and name exists under another cluster name: a rebuilt
// cluster that was meant to get its instances back runs with the wrong
// --cluster-name.
func (r *HubSpotInstanceReconciler) tellElsewhere(s *session, created int64) {
	if len(s.elsewhere) == 0 {
		return
	}
	found := make([]string, 0, len(s.elsewhere))
	for _, inst := range s.elsewhere {
		found = append(found, "element instance "+formatID(inst.ID)+" of cluster "+clusterNamed(inst.Tags))
	}
	s.note = fmt.Sprintf("created element instance %d although %s carries %s/%s under another cluster name (this operator's is %q); --cluster-name (Helm clusterName) set to that cluster's name would have adopted it",
		created, boundedList(found), s.obj.Namespace, s.obj.Name, r.clusterName)
	r.event(s.obj, corev1.EventTypeNormal, elementsv1alpha1.EventReasonNotAdopted, "Create", s.note)
}

// createFailed describes a failed create. An answer that does not prove
// nothing was created (a 409 "being created", say) is never a stall: the
// instance may exist, and the owner-tag lookup after the grace period must
// get its turn rather than wait for a person.
func createFailed(err error) error {
	classified := classifyAPIError("creating the element instance", err)
	var rerr *reconcileError
	if nothingCreated(err) || !errors.As(classified, &rerr) || !rerr.stalled {
		return classified
	}
	return fmt.Errorf("creating the element instance: the answer does not prove that nothing was created, so the instance is looked up by its owner tag before any new create: %w", err)
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

// applied records that the desired configuration and authorization reached
// the platform.
func (r *HubSpotInstanceReconciler) applied(s *session) {
	s.obj.Status.AppliedConfigurationHash = s.hash
	s.obj.Status.AppliedAuthorizationHash = s.authHash
	s.obj.Status.LastSyncTime = r.metaNow()
}

// findOwnedInstances lists the instances that carry the object's owner tag,
// or the one its create marker was written with.
func findOwnedInstances(ctx context.Context, api ElementAPI, obj *elementsv1alpha1.HubSpotInstance) ([]cloudelements.Instance, error) {
	var found []cloudelements.Instance
	for _, tag := range ownerTags(obj, obj.Annotations[elementsv1alpha1.CreatePendingAnnotation]) {
		instances, err := api.FindInstancesByTag(ctx, tag)
		if err != nil {
			return nil, err
		}
		found = append(found, instances...)
	}
	return found, nil
}

// observe copies what Cloud Elements said about the instance into status.
func (r *HubSpotInstanceReconciler) observe(s *session, inst *cloudelements.Instance) {
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

// observeRecorded fills status from what was recorded when no call was due.
func (r *HubSpotInstanceReconciler) observeRecorded(s *session, id int64) {
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

// lookAgainUntilSeen keeps the instance due for a look until observe
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
