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
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
)

// defaultCreateGrace is used when the manager does not derive the grace
// period from its client timeout.
const defaultCreateGrace = time.Minute

// createMarker is the value of the create-pending annotation: who started a
// create, when, and for which incarnation (UID) of the object. Every create
// attempt first wins an optimistic-locked write of a fresh marker, so two
// writers (a frozen old leader, two installs watching one namespace) can
// never both be creating: the loser sees a young marker and waits.
//
// The marker stays once status records the instance id, so the happy path
// costs one metadata write rather than two. Status is then the record; the
// marker is what is left if status is lost (a backup restored without it),
// and its UID finds the instance by the owner tag it was created with.
type createMarker struct {
	at     time.Time
	holder string
	uid    types.UID
	// applying is the configuration hash the create sent: an instance it
	// made, found again by its owner tag, already carries that
	// configuration and needs no update when the spec has not moved since.
	applying string
}

const (
	markerSeparator         = " by "
	markerUIDSeparator      = " for "
	markerApplyingSeparator = " applying "
)

func (m createMarker) String() string {
	s := m.at.UTC().Format(time.RFC3339Nano) + markerSeparator + m.holder
	if m.uid != "" {
		s += markerUIDSeparator + string(m.uid)
		if m.applying != "" {
			s += markerApplyingSeparator + m.applying
		}
	}
	return s
}

// parseCreateMarker reads a marker. An unreadable time reads as long ago:
// the owner-tag lookup then decides, which is always safe.
func parseCreateMarker(v string) createMarker {
	at, rest, _ := strings.Cut(v, markerSeparator)
	holder, rest, _ := strings.Cut(rest, markerUIDSeparator)
	uid, applying, _ := strings.Cut(rest, markerApplyingSeparator)
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		t = time.Time{}
	}
	return createMarker{at: t, holder: holder, uid: types.UID(uid), applying: applying}
}

// ownerTags are the tags an instance of obj's interrupted create may carry:
// its own owner tag and, when the marker came with metadata restored onto a
// new incarnation of the object, the owner tag the create was made with.
func ownerTags(obj *elementsv1alpha1.HubSpotInstance, marker string) []string {
	tags := []string{obj.OwnerTag()}
	if uid := parseCreateMarker(marker).uid; uid != "" && uid != obj.UID {
		tags = append(tags, elementsv1alpha1.OwnerTagOf(obj.Namespace, obj.Name, uid))
	}
	return tags
}

// createDecision is what to do about an object without a recorded instance.
type createDecision string

const (
	// createNow: no create is pending, or ours certainly created nothing.
	createNow createDecision = "create"
	// lookUpFirst: a create may have succeeded; the owner-tag lookup decides.
	lookUpFirst createDecision = "look up"
	// waitForInFlight: a create may still be running or about to commit.
	waitForInFlight createDecision = "wait"
)

// decideCreate is the exactly-once rule. A marker younger than the grace
// period means a create may still commit at the platform — even one whose
// client timed out — so nobody creates, and nobody trusts an empty lookup,
// until it has passed; then the owner-tag lookup decides. The only shortcut
// is our own attempt under this very marker that certainly created nothing.
func decideCreate(marker string, refusedMarker string, now time.Time, grace time.Duration) (createDecision, time.Duration) {
	if marker == "" || marker == refusedMarker {
		return createNow, 0
	}
	age := now.Sub(parseCreateMarker(marker).at)
	if age < 0 {
		age = 0 // a writer whose clock runs ahead: wait the grace, no longer
	}
	if age < grace {
		return waitForInFlight, grace - age
	}
	return lookUpFirst, 0
}

// markCreatePending writes a fresh marker with a write that fails if our copy
// is stale; a conflict is not retried here: it means somebody else wrote the
// object, maybe their own marker, and the next reconcile reads it. The
// finalizer rides along: from here on there may be something to clean up.
func (r *HubSpotInstanceReconciler) markCreatePending(ctx context.Context, s *session, marker createMarker) error {
	obj := s.obj
	status := obj.Status // the answer to a patch carries the stored status, not ours
	defer func() { obj.Status = status }()
	patch := client.MergeFromWithOptions(obj.DeepCopy(), client.MergeFromWithOptimisticLock{})
	if obj.Annotations == nil {
		obj.Annotations = map[string]string{}
	}
	obj.Annotations[elementsv1alpha1.CreatePendingAnnotation] = marker.String()
	controllerutil.AddFinalizer(obj, elementsv1alpha1.Finalizer)
	if err := r.Patch(ctx, obj, patch); err != nil {
		return fmt.Errorf("recording a pending create: %w", err)
	}
	r.rememberWrite(s)
	return nil
}

// recordCreated puts into status what the lost record of our own create
// said: without what the create applied, the instance would look as if it
// had never been authorized or configured, and be re-authorized and updated
// for nothing.
func (r *HubSpotInstanceReconciler) recordCreated(obj *elementsv1alpha1.HubSpotInstance, c *createdInstance) {
	obj.Status.InstanceID = c.id
	obj.Status.InstancePlatform = platformIdentity(obj)
	obj.Status.AppliedConfigurationHash, obj.Status.AppliedAuthorizationHash = c.configurationHash, c.authorizationHash
	obj.Status.Valid, obj.Status.Disabled = c.valid, c.disabled
	obj.Status.LastSyncTime = r.metaNow()
}

// processIdentity names this process in create markers.
func processIdentity() string {
	host, _ := os.Hostname()
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	return host + "_" + hex.EncodeToString(suffix)
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
	r.recordApplied(s)
	r.recordAnswer(s, inst)
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
