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
	"strconv"
	"strings"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"

	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
)

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
