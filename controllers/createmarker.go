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
	"fmt"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
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
