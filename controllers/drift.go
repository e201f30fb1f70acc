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
	"crypto/sha256"
	"encoding/json"
	"maps"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
)

// driftPoller detects drift account by account. Thousands of instances in
// one Cloud Elements account are the normal case, and a GET per object per
// poll interval does not scale: per (endpoint, account) it lists every
// instance the operator manages (tagged ManagedTag, 200 to a page) and
// compares each with what its object last saw. Only objects whose instance
// drifted are reconciled; at rest nothing else runs, and nothing reaches the
// API server.
type driftPoller struct {
	now func() time.Time
	mem *memory
	// tokenHash is how a member's token is fingerprinted (keyed, as in
	// status.tokenHash).
	tokenHash func(types.UID, string) string
	tick      time.Duration
	// wake starts a listing at once, not at the next tick: an object this
	// process has not verified yet joined an account.
	wake   chan struct{}
	events chan event.TypedGenericEvent[*elementsv1alpha1.HubSpotInstance]

	mu       sync.Mutex
	accounts map[string]*account
	memberOf map[types.NamespacedName]string
}

// account is one endpoint and account, and the objects whose instances live
// there.
type account struct {
	api      ElementAPI
	members  map[types.NamespacedName]member
	nextList time.Time
	failures int
	listing  bool
	// recent is what the last listing showed of every instance, kept for
	// recentFor when that listing was made for objects this process had not
	// verified: the objects that join after it began (a restart's
	// reconciles join over seconds) are verified by it, not by the next.
	recent   map[int64]listedInstance
	recentAt time.Time
	// names answers, for the objects of this account about to create,
	// whether an instance of their identity may exist.
	names nameIndex
}

// recentFor is how long a listing may verify objects that join after it.
const recentFor = 30 * time.Second

// listedInstance is what a listing showed of an instance that a member is
// compared by.
type listedInstance struct {
	valid, disabled bool
	token           string
}

func (l listedInstance) instance(id int64) *cloudelements.Instance {
	return &cloudelements.Instance{ID: id, Valid: l.valid, Disabled: l.disabled, Token: l.token}
}

// unverified: this process has not seen the member's instance yet.
func (m member) unverified() bool { return m.tokenDigest == "" || m.inherited }

// member is what an object last saw of its instance.
type member struct {
	id              int64
	valid, disabled bool
	// tokenDigest is the keyed hash of the element token; "" when unknown
	// (after a restart), which the first listing resolves.
	tokenDigest string
	interval    time.Duration
	uid         types.UID
	// inherited: tokenDigest comes from status, written by an earlier
	// process; this one has not verified it yet.
	inherited bool
	// observeOnly: the instance is only observed (ObserveOnly). The operator
	// never tags it, so a listing by ManagedTag may well not show it.
	observeOnly bool
	// shape digests its name, tags and configuration as last seen, whose
	// changes an observed instance reports; "" when unknown or not wanted.
	shape string
	// owner is the object's owner tag: an instance that comes to carry
	// another one was claimed by another object, whose token is then no
	// longer this object's to copy.
	owner string
}

// drift is what a listing says about one member.
type drift string

const (
	noDrift       drift = ""
	driftMissing  drift = "not in the listing" // deleted, or created before ManagedTag existed
	driftValidity drift = "validity changed"
	driftDisabled drift = "enabled or disabled"
	driftToken    drift = "token changed"
	driftUnknown  drift = "token not yet known"
	driftShape    drift = "name, tags or configuration changed"
	driftClaimed  drift = "another object's owner tag"
)

// driftOf compares a member with its instance in a listing.
func driftOf(m member, inst cloudelements.Instance, listed bool, tokenHash func(types.UID, string) string) drift {
	switch {
	case !listed:
		return driftMissing
	case m.owner != "" && slices.ContainsFunc(inst.Tags, func(t string) bool { return elementsv1alpha1.IsOwnerTag(t) && t != m.owner }):
		return driftClaimed
	case inst.Valid != m.valid:
		return driftValidity
	case inst.Disabled != m.disabled:
		return driftDisabled
	case m.tokenDigest == "":
		return driftUnknown
	case tokenHash(m.uid, inst.Token) != m.tokenDigest:
		return driftToken
	case m.shape != "" && shapeDigest(inst) != m.shape:
		return driftShape
	}
	return noDrift
}

// listingVerdict is what one listing concludes about a member: what drifted
// (inst is the instance as listed when it drifted, else nil), and whether
// the listing verified the instance as last seen. An observed instance the
// listing does not show is most likely untagged rather than deleted: it is
// due for a look at its own poll interval, not at every listing.
func listingVerdict(m member, inst *cloudelements.Instance, seen bool, verifiedAt, now time.Time, tokenHash func(types.UID, string) string) (drift, bool) {
	switch {
	case seen && inst != nil:
		d := driftOf(m, *inst, true, tokenHash)
		return d, d == noDrift
	case seen:
		return noDrift, true
	case m.observeOnly && untilPollDue(verifiedAt, now, m.interval, m.uid) > 0:
		return noDrift, false
	}
	return driftMissing, false
}

// shapeDigest fingerprints what an observed instance is compared by: its
// name, its tags as a set, and its configuration as read (secret values
// masked).
func shapeDigest(inst cloudelements.Instance) string {
	tags := slices.Sorted(slices.Values(inst.Tags))
	body, _ := json.Marshal([]any{inst.Name, slices.Compact(tags), inst.Configuration})
	sum := sha256.Sum256(body)
	return string(sum[:])
}

// listBackoff is how long a failing account waits before the next listing:
// exponential from 5s, never beyond the shortest poll interval it serves. A
// failed listing never falls back to a call per object.
func listBackoff(failures int, interval time.Duration) time.Duration {
	wait := 5 * time.Second
	for i := 1; i < failures && wait < interval; i++ {
		wait *= 2
	}
	return min(wait, interval)
}

func newDriftPoller(now func() time.Time, mem *memory, tokenHash func(types.UID, string) string) *driftPoller {
	return &driftPoller{now: now, mem: mem, tokenHash: tokenHash, tick: time.Second, wake: make(chan struct{}, 1),
		events:   make(chan event.TypedGenericEvent[*elementsv1alpha1.HubSpotInstance], 1024),
		accounts: map[string]*account{}, memberOf: map[types.NamespacedName]string{}}
}

// watch puts an object's instance under the listing of its account, or
// updates what it last saw.
func (p *driftPoller) watch(key types.NamespacedName, accountKey string, api ElementAPI, m member) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if old, ok := p.memberOf[key]; ok && old != accountKey {
		p.leave(key, old)
	}
	a := p.accounts[accountKey]
	if a == nil {
		a = &account{members: map[types.NamespacedName]member{}}
		p.accounts[accountKey] = a
	}
	a.api = api
	_, known := a.members[key]
	a.members[key] = m
	p.memberOf[key] = accountKey
	now := p.now()
	if due := now.Add(m.interval); a.nextList.IsZero() || due.Before(a.nextList) {
		a.nextList = due
	}
	switch {
	case known || !m.unverified() || a.listing:
		// Seen by this process, or the running listing's end looks at it.
	case p.verifyByRecent(a, key, m, now):
	default:
		// Never verified by this process: list now.
		a.nextList = now
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

// verifyByRecent settles a member that joined after the account's last
// listing began, by what that listing showed; false when it is too old or
// cannot tell (an observed instance is compared by more than it keeps).
func (p *driftPoller) verifyByRecent(a *account, key types.NamespacedName, m member, now time.Time) bool {
	if a.recent == nil || now.Sub(a.recentAt) > recentFor || m.observeOnly {
		return false
	}
	var inst *cloudelements.Instance
	listed, seen := a.recent[m.id]
	if seen {
		inst = listed.instance(m.id)
	}
	if p.recordVerdict(key, m, inst, seen, a.recentAt, now) != noDrift {
		p.enqueue(key)
	}
	return true
}

// covers reports whether a listing watches the object's instance.
func (p *driftPoller) covers(key types.NamespacedName) bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.memberOf[key]
	return ok
}

// unwatch stops watching an object.
func (p *driftPoller) unwatch(key types.NamespacedName) {
	p.unwatchReleasing(key, "")
}

// unwatchReleasing stops watching an object that let its instance go (an
// Orphan deletion): the instance, now carrying nameTag, is no member's, and
// the next object of that name must look it up. "" releases nothing.
func (p *driftPoller) unwatchReleasing(key types.NamespacedName, nameTag string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if accountKey, ok := p.memberOf[key]; ok {
		if a := p.accounts[accountKey]; a != nil && nameTag != "" {
			a.names.release(nameTag, p.now())
		}
		p.leave(key, accountKey)
	}
}

// identityUnseen says whether the account's last listing proves that no
// instance carries nameTag, so that an object about to create need not look
// it up. It holds for two poll intervals: a failing listing does not leave
// an old answer standing for long.
//
// Without a listing to trust, the account's next listing starts at once: in
// a mass create (a cluster applied from Git, a restarted process), the
// objects that come after it need no lookup of their own.
func (p *driftPoller) identityUnseen(accountKey, nameTag string) bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	a := p.accounts[accountKey]
	if a == nil {
		return false
	}
	now := p.now()
	fresh := 2 * a.shortestInterval()
	if a.names.unseen(nameTag, now, fresh) {
		return true
	}
	if !a.listing && !a.names.trusted(now, fresh) && a.nextList.After(now) {
		a.nextList = now
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
	return false
}

func (p *driftPoller) leave(key types.NamespacedName, accountKey string) {
	delete(p.memberOf, key)
	if a := p.accounts[accountKey]; a != nil {
		delete(a.members, key)
		if len(a.members) == 0 {
			delete(p.accounts, accountKey)
		}
	}
}

// Start lists each account when it is due, until ctx ends. It runs on the
// leader only, like the reconciler it feeds.
func (p *driftPoller) Start(ctx context.Context) error {
	ticker := time.NewTicker(p.tick)
	defer ticker.Stop()
	var running sync.WaitGroup
	defer running.Wait()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		case <-p.wake:
		}
		for key, a := range p.dueAccounts() {
			running.Add(1)
			go func() {
				defer running.Done()
				p.list(ctx, key, a)
			}()
		}
	}
}

// dueAccounts marks the accounts whose listing is due as listing, and
// returns them.
func (p *driftPoller) dueAccounts() map[string]*account {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	due := map[string]*account{}
	for key, a := range p.accounts {
		if a.recent != nil && now.Sub(a.recentAt) > recentFor {
			a.recent = nil // its tokens are not kept a moment longer than they serve
		}
		if !a.listing && !a.nextList.After(now) {
			a.listing = true
			due[key] = a
		}
	}
	return due
}

// list runs one listing of an account and acts on what it finds.
func (p *driftPoller) list(ctx context.Context, key string, a *account) {
	p.mu.Lock()
	api := a.api
	byID := make(map[int64]types.NamespacedName, len(a.members))
	for objKey, m := range a.members {
		byID[m.id] = objKey
	}
	members := maps.Clone(a.members)
	var recent map[int64]listedInstance
	for _, m := range members {
		if m.unverified() {
			recent = map[int64]listedInstance{}
			break
		}
	}
	p.mu.Unlock()

	// Compared page by page, keeping only what drifted (and, for a listing
	// made for objects not yet verified, what verifies them): a listing of
	// ten thousand instances never sits in memory whole.
	started := p.now()
	drifted := map[types.NamespacedName]*cloudelements.Instance{}
	seen := make(map[types.NamespacedName]bool, len(members))
	names := map[uint64]struct{}{}
	err := api.VisitInstancesByTag(ctx, elementsv1alpha1.ManagedTag, func(inst cloudelements.Instance) {
		if recent != nil {
			recent[inst.ID] = listedInstance{valid: inst.Valid, disabled: inst.Disabled, token: inst.Token}
		}
		objKey, ours := byID[inst.ID]
		if !ours {
			for _, tag := range inst.Tags {
				if elementsv1alpha1.IsNameTag(tag) {
					names[nameHash(tag)] = struct{}{}
				}
			}
			return
		}
		seen[objKey] = true
		if driftOf(members[objKey], inst, true, p.tokenHash) != noDrift {
			drifted[objKey] = &inst
		}
	})

	p.mu.Lock()
	defer p.mu.Unlock()
	a.listing = false
	now := p.now()
	interval := a.shortestInterval()
	if err != nil {
		a.failures++
		a.nextList = now.Add(listBackoff(a.failures, interval))
		log.FromContext(ctx).Info("listing the instances of an account failed; retrying the listing, not each instance",
			"failures", a.failures, "retryIn", a.nextList.Sub(now).String(), "error", err.Error())
		return
	}
	a.failures = 0
	a.names.replace(names, started)
	// From the start: a listing of many pages does not push the schedule
	// back by its own length.
	a.nextList = started.Add(interval + pollJitter(types.UID(key), interval))
	a.recent, a.recentAt = recent, started
	for objKey, current := range a.members {
		m, before := members[objKey]
		switch {
		case !before:
			// Joined while the listing ran.
			if current.unverified() {
				p.verifyByRecent(a, objKey, current, now)
			}
			continue
		case current.id != m.id:
			continue // moved to another instance while the listing ran
		}
		if p.recordVerdict(objKey, m, drifted[objKey], seen[objKey], started, now) != noDrift {
			p.enqueue(objKey)
		}
	}
}

// recordVerdict records what a listing that began at started concluded about a
// member: verified, or drifted (the object is then due for a look, with
// what the listing showed). It returns the drift, or noDrift when a
// reconcile saw the instance after the listing began: the listing is the
// older news.
func (p *driftPoller) recordVerdict(objKey types.NamespacedName, m member, inst *cloudelements.Instance, seen bool, started, now time.Time) drift {
	d := noDrift
	p.mem.recordVerdict(objKey, m.uid, func(r *remembered) {
		if r.verifiedAt.After(started) {
			return
		}
		var verified bool
		d, verified = listingVerdict(m, inst, seen, r.verifiedAt, now, p.tokenHash)
		switch {
		case verified:
			r.verifiedAt = now
			if r.tokenDigest == "" {
				// An inherited token hash, now verified.
				r.tokenDigest = m.tokenDigest
			}
		case d != noDrift:
			r.pollNow = true
			r.listed, r.listedAt = inst, now
		}
	})
	return d
}

func (a *account) shortestInterval() time.Duration {
	shortest := time.Duration(0)
	for _, m := range a.members {
		if shortest == 0 || m.interval < shortest {
			shortest = m.interval
		}
	}
	if shortest == 0 {
		shortest = elementsv1alpha1.DefaultPollInterval
	}
	return shortest
}

// enqueue sends an object to the reconciler without blocking the caller's
// lock for long: the channel is buffered, and the controller drains it.
func (p *driftPoller) enqueue(key types.NamespacedName) {
	obj := &elementsv1alpha1.HubSpotInstance{}
	obj.Namespace, obj.Name = key.Namespace, key.Name
	select {
	case p.events <- event.TypedGenericEvent[*elementsv1alpha1.HubSpotInstance]{Object: obj}:
	default:
		// Full: the object keeps pollNow, so the listing after this one
		// sends it again if it still drifts; nothing is lost but time.
		go func() { p.events <- event.TypedGenericEvent[*elementsv1alpha1.HubSpotInstance]{Object: obj} }()
	}
}

// driftHandler queues what the poller found behind the work people asked
// for: creates and edits first.
func driftHandler() handler.TypedEventHandler[*elementsv1alpha1.HubSpotInstance, reconcile.Request] {
	return handler.TypedFuncs[*elementsv1alpha1.HubSpotInstance, reconcile.Request]{
		GenericFunc: func(_ context.Context, e event.TypedGenericEvent[*elementsv1alpha1.HubSpotInstance], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			req := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: e.Object.Namespace, Name: e.Object.Name}}
			if pq, ok := q.(priorityqueue.PriorityQueue[reconcile.Request]); ok {
				low := handler.LowPriority
				pq.AddWithOpts(priorityqueue.AddOpts{Priority: &low}, req)
				return
			}
			q.Add(req)
		},
	}
}
