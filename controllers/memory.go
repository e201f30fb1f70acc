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
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
)

// memory is what the operator knows about each object without writing it
// anywhere. Losing it (a restart) costs one extra read per object, never a
// write, which is what keeps the operator quiet at rest and after restarts.
// Entries are keyed by name and belong to one UID: a deleted and recreated
// object of the same name starts afresh.
type memory struct {
	mu      sync.Mutex
	objects map[types.NamespacedName]*remembered
	// spare is a zero seldom that updates lend to objects without one,
	// taken back when they leave it zero.
	spare *seldom
}

// remembered is what the operator knows of one object. It is kept for
// every object for the life of the process, so what only some objects ever
// need (a drift listing's find, an observed instance's shape, a consent
// link, a refused or stalled attempt, a streak of 429s) lives apart in
// seldom, which is there only while some of it is set.
type remembered struct {
	uid types.UID
	// verifiedAt is when the instance was last seen at Cloud Elements; the
	// next drift poll is due pollInterval later.
	verifiedAt time.Time
	// tokenDigest digests the element token last seen, for the listing to
	// compare with; "" when unknown.
	tokenDigest string
	// objectVersion is the resourceVersion of our own last write to the
	// HubSpotInstance: a cached copy with another version may be stale.
	objectVersion string
	// secretVersion and secretDigest describe our last write (or check) of
	// the token Secret: if its resourceVersion moved, somebody edited it.
	secretVersion string
	secretDigest  string
	// readyStatus and readyReason feed the hubspot_operator_instances gauge,
	// stalled (the Stalled condition is True) the
	// hubspot_operator_instances_stalled gauge.
	readyStatus, readyReason string
	stalled                  bool
	// pollNow: the account's listing found the instance drifted (or not at
	// all), so the next reconcile looks at it.
	pollNow bool
	// failing: the last reconcile ended in an error, so the next one is a
	// retry and draws on its account's retry budget.
	failing bool
	// Its fields read and write as remembered's own: get and apply see to
	// it that it is never nil there, and that no two copies share it.
	*seldom
}

// seldom is the part of remembered that most objects never need.
type seldom struct {
	// listed is what the account's listing showed of a drifted instance,
	// which spares a GET; listedAt is when.
	listed   *cloudelements.Instance
	listedAt time.Time
	// shapeDigest digests the name, tags and configuration last seen of an
	// instance observed only (ObserveOnly), whose drift the operator reports;
	// "" otherwise.
	shapeDigest string
	// linkVersion and linkDigest describe our last write (or check) of the
	// consent-link Secret, the same way as the token Secret's.
	linkVersion string
	linkDigest  string
	// linkNonce is the nonce of the link we last wrote or checked.
	linkNonce string
	// refusedMarker is the create marker of our last attempt when that
	// attempt certainly created nothing: the next one needs no wait and no
	// owner-tag lookup first.
	refusedMarker string
	// created is the instance this process created, until status records
	// it. A status write that failed then costs no wait for the grace
	// period, no owner-tag lookup, and no call to apply again what the
	// create applied.
	created *createdInstance
	// stalledAttempt fingerprints an attempt Cloud Elements refused (a
	// platform stall), which is not repeated before stalledUntil unless
	// something it was made from changes.
	stalledAttempt string
	stalledUntil   time.Time
	// rateLimited counts the reconciles in a row answered 429, for
	// generation rateLimitedGeneration.
	rateLimited           int
	rateLimitedGeneration int64
}

// createdInstance is what a create made, under which create marker, and
// what it applied: what the status write that failed would have recorded.
type createdInstance struct {
	marker                               string
	id                                   int64
	configurationHash, authorizationHash string
	valid, disabled                      bool
}

func newMemory() *memory { return &memory{objects: map[types.NamespacedName]*remembered{}} }

// get returns a copy of what is remembered of obj, with a seldom of its
// own: the caller reads it without the lock while updates go on.
func (m *memory) get(obj client.Object) remembered {
	m.mu.Lock()
	defer m.mu.Unlock()
	return copyOf(m.objects[client.ObjectKeyFromObject(obj)], obj.GetUID())
}

// copyOf copies r, with a seldom of its own, when it is uid's; otherwise it
// gives an empty entry. The caller holds the lock.
func copyOf(r *remembered, uid types.UID) remembered {
	c := remembered{seldom: new(seldom)}
	if r != nil && r.uid == uid {
		own := c.seldom
		c = *r
		if r.seldom != nil {
			*own = *r.seldom
		}
		c.seldom = own
	}
	return c
}

// begin is get for a reconcile: it gives the object an entry if it has
// none, so that the reconcile's write-back can tell an entry cleared under
// it from one that never was.
func (m *memory) begin(obj client.Object) remembered {
	key, uid := client.ObjectKeyFromObject(obj), obj.GetUID()
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.objects[key]
	if !ok || r.uid != uid {
		r = &remembered{uid: uid}
		m.objects[key] = r
	}
	return copyOf(r, uid)
}

// writeBack is the one write of a reconcile: it applies, in one critical
// section, the changes the reconcile recorded on its session (see
// session.remember), in the order it made them. Replayed rather than
// copied, they leave alone what the drift poller concluded since the
// reconcile read its snapshot, unless the reconcile learnt the same thing
// better.
//
// An entry that is gone was forgotten during the reconcile. If the
// reconcile forgot it itself and then kept the object (a deletion that must
// wait), its whole copy, mine, takes the entry's place. Otherwise the entry
// was cleared under it, as a restart clears memory (which only tests do in
// process): what it learnt is lost with the rest, and nothing is written.
func (m *memory) writeBack(obj client.Object, forgotten bool, mine remembered, changes ...func(*remembered)) {
	key, uid := client.ObjectKeyFromObject(obj), obj.GetUID()
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.objects[key]; !ok || r.uid != uid {
		if !forgotten {
			return
		}
		c := mine
		c.uid = uid
		if c.seldom != nil && *c.seldom == (seldom{}) {
			c.seldom = nil
		} else if c.seldom != nil {
			own := *c.seldom
			c.seldom = &own
		}
		m.objects[key] = &c
		return
	}
	m.apply(key, uid, changes...)
}

// recordVerdict is the drift poller's one way in: what a listing concluded
// about an object known by key and UID.
func (m *memory) recordVerdict(key types.NamespacedName, uid types.UID, change func(*remembered)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.apply(key, uid, change)
}

// apply runs changes on the entry of key, made afresh for a new UID. The
// caller holds the lock.
func (m *memory) apply(key types.NamespacedName, uid types.UID, changes ...func(*remembered)) {
	r, ok := m.objects[key]
	if !ok || r.uid != uid {
		r = &remembered{uid: uid}
		m.objects[key] = r
	}
	if r.seldom == nil {
		if m.spare == nil {
			m.spare = new(seldom)
		}
		r.seldom = m.spare
	}
	for _, change := range changes {
		change(r)
	}
	switch {
	case *r.seldom == (seldom{}):
		// Nothing seldom (any more): the zero struct serves the next update.
		m.spare, r.seldom = r.seldom, nil
	case r.seldom == m.spare:
		m.spare = nil
	}
}

// forget drops the object's entry; only HubSpotInstanceReconciler.forget
// calls it.
func (m *memory) forget(key types.NamespacedName) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objects, key)
}
