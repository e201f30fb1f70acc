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

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Condition types, kstatus-compatible: Ready is always present once the object
// has been reconciled; Reconciling and Stalled appear only while True.
const (
	ConditionReady       = "Ready"
	ConditionReconciling = "Reconciling"
	ConditionStalled     = "Stalled"
)

// Condition reasons. Each names the one thing a person should look at.
const (
	// ReasonAvailable: the instance exists, is valid and the token Secret holds its token.
	ReasonAvailable = "Available"
	// ReasonProgressing: work towards Ready is under way.
	ReasonProgressing = "Progressing"
	// ReasonSuspended: spec.suspend is true.
	ReasonSuspended = "Suspended"
	// ReasonMissingConfiguration: a referenced Secret or key does not exist.
	ReasonMissingConfiguration = "MissingConfiguration"
	// ReasonInvalidConfiguration: the inputs, or Cloud Elements, refused the configuration.
	ReasonInvalidConfiguration = "InvalidConfiguration"
	// ReasonAwaitingAuthorization: waiting for a person to consent through the
	// link in the Secret named by status.authorizationSecretName.
	ReasonAwaitingAuthorization = "AwaitingAuthorization"
	// ReasonAuthorizationDenied: the person declined consent.
	ReasonAuthorizationDenied = "AuthorizationDenied"
	// ReasonReauthorizationRequired: the instance is no longer valid at the provider.
	ReasonReauthorizationRequired = "ReauthorizationRequired"
	// ReasonInstanceDisabled: the instance is disabled at Cloud Elements.
	ReasonInstanceDisabled = "InstanceDisabled"
	// ReasonInstanceDrifted: with managementPolicy ObserveOnly, the instance
	// differs from the spec (status.drift says how); nothing is changed.
	ReasonInstanceDrifted = "InstanceDrifted"
	// ReasonInstanceNotFound: with managementPolicy ObserveOnly, the recorded
	// instance no longer exists at Cloud Elements; nothing is created.
	ReasonInstanceNotFound = "InstanceNotFound"
	// ReasonAccountChanged: the recorded instance is not found with the
	// credentials now referenced, which are not those it was last seen
	// with: it may live in another account, so nothing is created (or, on
	// deletion, let go) until the credentials are put back.
	ReasonAccountChanged = "AccountChanged"
	// ReasonInstanceClaimed: the recorded instance now carries the owner tag
	// of another object, or of another incarnation of this one (two live
	// objects of one identity: two clusters run with one cluster name, or a
	// restore beside the original); this object no longer changes it or
	// copies its token.
	ReasonInstanceClaimed = "InstanceClaimed"
	// ReasonSecretConflict: the name of the token Secret, or of the consent-link
	// Secret, belongs to a Secret the operator does not own.
	ReasonSecretConflict = "SecretConflict"
	// ReasonUnauthorized: Cloud Elements refused the account credentials.
	ReasonUnauthorized = "Unauthorized"
	// ReasonAPIUnavailable: Cloud Elements failed or could not be reached; retried with backoff.
	ReasonAPIUnavailable = "APIUnavailable"
	// ReasonRateLimited: Cloud Elements asked the operator to slow down; retried after Retry-After.
	ReasonRateLimited = "RateLimited"
	// ReasonDeletionBlocked: the instance cannot be deleted yet; the finalizer stays.
	ReasonDeletionBlocked = "DeletionBlocked"
	// ReasonDeletionProtected: the object is being deleted, but
	// DeletionProtectionAnnotation forbids deleting its instance; the
	// finalizer stays until the annotation is removed or deletionPolicy is
	// Orphan.
	ReasonDeletionProtected = "DeletionProtected"
)

// Annotations and the finalizer the operator reads or writes on HubSpotInstances.
const (
	// Finalizer keeps the object until its element instance is deleted (or orphaned).
	Finalizer = "elements.cloud-elements.io/finalizer"
	// CredentialsInUseFinalizer keeps a credentials Secret readable while an
	// object may still need it to delete its instance at Cloud Elements (a
	// namespace being deleted removes Secrets and objects in any order).
	CredentialsInUseFinalizer = "elements.cloud-elements.io/credentials-in-use"
	// InstanceIDAnnotation records the element instance id. Set it on a new
	// object to import an existing instance instead of creating one.
	InstanceIDAnnotation = "elements.cloud-elements.io/instance-id"
	// DeletionProtectionAnnotation, set to "true", forbids deleting the
	// element instance at Cloud Elements: deleting the object then waits,
	// finalizer kept, until the annotation is removed (or set to anything
	// but "true") or deletionPolicy is set to Orphan.
	DeletionProtectionAnnotation = "elements.cloud-elements.io/deletion-protection"
	// CreatePendingAnnotation is written, with an optimistic-lock update,
	// just before an instance is created, so a crash between create and record
	// is detected and resolved by looking the instance up by its owner tag.
	CreatePendingAnnotation = "elements.cloud-elements.io/create-pending"
	// ReconcileRequestAnnotation forces a reconcile (the Flux convention).
	ReconcileRequestAnnotation = "reconcile.fluxcd.io/requestedAt"
)

// GetConditions returns the object's status conditions.
func (in *HubSpotInstance) GetConditions() []metav1.Condition {
	return in.Status.Conditions
}
