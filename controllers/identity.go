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
	"slices"
	"strings"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

// An instance belongs to an object's identity (cluster, namespace, name),
// and is held by one incarnation (UID) of it at a time. The tags say which:
// the cluster and name tags carry the identity, the owner tag the
// incarnation. A cluster rebuilt from Git, or an object re-applied after
// deletionPolicy Orphan, is a new incarnation of the same identity, and
// adopts the instance its identity's tags find.

// identity is what an object incarnation answers to in tags.
type identity struct {
	// cluster is "" when the operator runs without identity tags.
	cluster string
	// nameTag is the object's namespace and name.
	nameTag string
	// incarnations are the owner tags of this incarnation: its own and,
	// after a restore onto a new UID, the one its create marker names.
	incarnations []string
}

func (r *HubSpotInstanceReconciler) identityOf(obj *elementsv1alpha1.HubSpotInstance) identity {
	return identity{cluster: r.clusterName, nameTag: elementsv1alpha1.NameTag(obj.Namespace, obj.Name),
		incarnations: ownerTags(obj, obj.Annotations[elementsv1alpha1.CreatePendingAnnotation])}
}

// tags are the operator's tags of an instance of this identity held by this
// incarnation, in the order they are sent.
func (id identity) tags() []string {
	if id.cluster == "" {
		return []string{id.incarnations[0]}
	}
	return []string{id.incarnations[0], id.nameTag, elementsv1alpha1.ClusterTag(id.cluster)}
}

// relation is what an instance is to an object incarnation.
type relation string

const (
	// unclaimed: no owner, name or cluster tag (made by hand, or only ever
	// observed).
	unclaimed relation = "unclaimed"
	// heldByUs: this incarnation's owner tag and no other (whatever the
	// cluster tag says: a renamed cluster re-tags its own instances).
	heldByUs relation = "held by this incarnation"
	// ourIdentity: this identity's, held by no incarnation or by an earlier
	// one of this namespace and name (a legacy owner tag counts): it may be
	// adopted.
	ourIdentity relation = "this identity's"
	// otherCluster: this namespace and name, under another cluster name.
	otherCluster relation = "another cluster's"
	// othersInstance: another object's, or claimed by two incarnations.
	othersInstance relation = "another object's"
)

// relationOf reads an instance's tags against an identity.
func relationOf(tags []string, id identity) relation {
	var ours, earlier, foreign, nameSeen, clusterSeen, otherClusterSeen bool
	for _, tag := range tags {
		cluster, isCluster := elementsv1alpha1.ClusterOf(tag)
		switch {
		case elementsv1alpha1.IsOwnerTag(tag) && slices.Contains(id.incarnations, tag):
			ours = true
		case elementsv1alpha1.IsOwnerTag(tag) && strings.HasPrefix(tag, id.nameTag+"/"):
			earlier = true
		case elementsv1alpha1.IsOwnerTag(tag):
			foreign = true
		case elementsv1alpha1.IsNameTag(tag) && tag != id.nameTag:
			foreign = true
		case elementsv1alpha1.IsNameTag(tag):
			nameSeen = true
		case isCluster && cluster == id.cluster:
			clusterSeen = true
		case isCluster:
			otherClusterSeen = true
		}
	}
	switch {
	case foreign || (ours && earlier):
		return othersInstance
	case ours:
		return heldByUs
	case otherClusterSeen:
		return otherCluster
	case earlier || nameSeen || clusterSeen:
		return ourIdentity
	}
	return unclaimed
}

// heldElsewhere is an owner tag on an instance naming an incarnation other
// than this one: another object's, or an earlier or later one of this
// identity that adopted it.
func heldElsewhere(tags []string, id identity) (string, bool) {
	for _, tag := range tags {
		if elementsv1alpha1.IsOwnerTag(tag) && !slices.Contains(id.incarnations, tag) {
			return tag, true
		}
	}
	return "", false
}
