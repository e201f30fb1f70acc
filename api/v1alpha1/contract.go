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

package v1alpha1

import (
	"maps"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// The names shared by the reconciler, the OAuth callback server, the
// manager's wiring, the tests and the workloads that read the token Secret.
// They are part of the operator's contract, so they live beside the API.

// FieldManager is the server-side apply field manager, and the managed-by
// label value, of everything the operator writes.
const FieldManager = "hubspot-operator"

// Labels on the Secrets the operator writes.
const (
	ManagedByLabel = "app.kubernetes.io/managed-by"
	// InstanceLabel names the HubSpotInstance a Secret belongs to.
	InstanceLabel = "elements.cloud-elements.io/instance"
)

// OwnedSecretLabels are the labels of a Secret the operator writes for the
// object (its token, its consent link, its callback answer): extra, which
// may be nil, and ours over them, so that no label a user asks for can hide
// whose the Secret is.
func (in *HubSpotInstance) OwnedSecretLabels(extra map[string]string) map[string]string {
	labels := make(map[string]string, len(extra)+2)
	maps.Copy(labels, extra)
	labels[ManagedByLabel] = FieldManager
	labels[InstanceLabel] = in.Name
	return labels
}

// ControllerReference makes the object the controller of a Secret written
// for it: the Secret goes away with the object, and only a Secret the
// object controls is trusted as its own.
func (in *HubSpotInstance) ControllerReference() metav1.OwnerReference {
	return *metav1.NewControllerRef(in, GroupVersion.WithKind("HubSpotInstance"))
}

// Keys of the token Secret, as workloads read them.
const (
	TokenKey      = "token"
	InstanceIDKey = "instance-id"
	ElementKeyKey = "element-key"
	EndpointKey   = "endpoint"
)

// DataHashAnnotation is, on the token Secret, a keyed hash of its data: it
// moves whenever what the Secret holds changes (a new token, or a template
// input), for Reloader-style controllers and pod templates to react to.
const DataHashAnnotation = "elements.cloud-elements.io/data-hash"

// Keys of the Secret the OAuth callback server writes for the reconciler
// (see CallbackSecretName).
const (
	CallbackCodeKey             = "code"
	CallbackErrorKey            = "error"
	CallbackErrorDescriptionKey = "error_description"
)

// AuthorizationURLKey is the key of the consent-link Secret (see
// AuthorizationSecretName) that holds the authorization URL.
const AuthorizationURLKey = "url"

// AuthorizationNonceAnnotation names the authorization URL (its state's
// nonce) a Secret belongs to: on the consent-link Secret, the link it holds;
// on the callback Secret, the link it answers.
const AuthorizationNonceAnnotation = "elements.cloud-elements.io/oauth-state-nonce"

// AuthorizationSecretName is the Secret, owned by the object, that holds the
// consent link while an OAuth 2 object waits for consent. The link carries
// a signed, single-use state: whoever opens it first binds the instance to
// their own HubSpot portal. So it is kept where only those who may read the
// namespace's Secrets can read it, and never in status, which every viewer
// can read. The suffix is as long as "-element-token": names up to the
// 239 characters the CRD allows still give a valid Secret name.
func (in *HubSpotInstance) AuthorizationSecretName() string {
	return in.Name + ConsentLinkSuffix
}

// ConsentLinkSuffix makes the consent-link Secret's name: the object's
// name and this.
const ConsentLinkSuffix = "-oauth-consent"

// CallbackSecretName is the Secret, owned by the object, through which the
// callback server hands an authorization code (or a refusal) to the
// reconciler. A Secret survives restarts, and a code is a credential.
func (in *HubSpotInstance) CallbackSecretName() string {
	return in.Name + "-oauth-code"
}

// OwnerTagPrefix starts every owner tag; admission refuses user tags with it.
const OwnerTagPrefix = "k8s:"

// ManagedTag is on every element instance the operator creates or imports,
// besides the owner tag: one listing by this tag finds them all, which is
// how drift is detected for a whole account at once. It has no "/", so it
// can never be an owner tag.
const ManagedTag = OwnerTagPrefix + "managed-by-hubspot-operator"

// OwnerTag marks an element instance as this object's. It is what makes
// "create exactly once" possible: after a crash between create and record,
// the instance is found again by this tag instead of being created twice.
func (in *HubSpotInstance) OwnerTag() string {
	return OwnerTagOf(in.Namespace, in.Name, in.UID)
}

// OwnerTagOf is the owner tag of one incarnation (UID) of the object
// namespace/name: an object restored onto a new UID looks for what its
// earlier incarnation created by that one's tag.
func OwnerTagOf(namespace, name string, uid types.UID) string {
	return OwnerTagNamespacePrefix(namespace) + name + "/" + string(uid)
}

// IsOwnerTag says whether tag is an owner tag (OwnerTagOf): it names the
// incarnation of an object that holds the instance. Namespaces, names and
// UIDs contain no "/", so it has exactly two.
func IsOwnerTag(tag string) bool {
	rest, ok := strings.CutPrefix(tag, OwnerTagPrefix)
	return ok && strings.Count(rest, "/") == 2
}

// An object's identity is (cluster, namespace, name): what is left of it
// when the cluster is rebuilt from Git or the object is re-applied after
// deletionPolicy Orphan, both of which change its UID. Every instance the
// operator creates or takes over carries its identity in two tags, beside
// the owner tag of the incarnation holding it, so that the next incarnation
// can find it (by its name tag) and adopt it.

// clusterTagPrefix starts a cluster tag; cluster names are DNS labels, so a
// cluster tag has no "/".
const clusterTagPrefix = OwnerTagPrefix + "cluster="

// ClusterTag names the cluster an instance's object lives in.
func ClusterTag(cluster string) string { return clusterTagPrefix + cluster }

// ClusterOf reads a cluster tag.
func ClusterOf(tag string) (string, bool) { return strings.CutPrefix(tag, clusterTagPrefix) }

// NameTag names the namespace and name of an instance's object, whatever its
// incarnation: exactly one "/".
func NameTag(namespace, name string) string { return OwnerTagNamespacePrefix(namespace) + name }

// IsNameTag says whether tag is a name tag (NameTag).
func IsNameTag(tag string) bool {
	rest, ok := strings.CutPrefix(tag, OwnerTagPrefix)
	return ok && strings.Count(rest, "/") == 1
}

// HandOverAnnotation names, on an object deleted with deletionPolicy
// Orphan, the "<namespace>/<name>" of the object (of the same cluster) that
// is to adopt its instance: the instance is re-tagged with that identity as
// the object lets it go. It is the one way an instance moves to another
// namespace or name, and it takes an edit on the releasing side.
const HandOverAnnotation = "elements.cloud-elements.io/hand-over-to"

// OwnerTagNamespacePrefix is what the owner tags of every object in a
// namespace start with.
func OwnerTagNamespacePrefix(namespace string) string {
	return OwnerTagPrefix + namespace + "/"
}

// Event reasons recorded on HubSpotInstances for what the operator did. A
// change of the Ready condition is recorded too, with the condition reason,
// but not an object's first Ready when it got there at its first attempt:
// a routine create is told by status alone.
const (
	EventReasonAdopted             = "Adopted"
	EventReasonImported            = "Imported"
	EventReasonUpdated             = "Updated"
	EventReasonReauthorized        = "Reauthorized"
	EventReasonInstanceMissing     = "InstanceMissing"
	EventReasonTokenSecretRestored = "TokenSecretRestored"
	EventReasonDeleted             = "Deleted"
	EventReasonOrphaned            = "Orphaned"
	// EventReasonStatusRefused: the API server refused a status write; the
	// note names the field.
	EventReasonStatusRefused = "StatusRefused"
	// EventReasonNotAdopted: a new instance was created although one of the
	// object's namespace and name exists under another cluster name.
	EventReasonNotAdopted = "NotAdopted"
	// EventReasonHandedOver: an object deleted with deletionPolicy Orphan
	// re-tagged its instance for the object its hand-over annotation names.
	EventReasonHandedOver            = "HandedOver"
	EventReasonAuthorizationReceived = "AuthorizationReceived"
	EventReasonAuthorizationDenied   = ReasonAuthorizationDenied
)
