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
	"time"

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
