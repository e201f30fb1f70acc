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

package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/operator"
)

// tracker watches one namespace and notes when each HubSpotInstance was
// created (its create call returned) and first seen Ready: the same
// observer for the operator and for the floor.
type tracker struct {
	n    int
	stop context.CancelFunc

	mu        sync.Mutex
	createdAt map[string]time.Time
	readyAt   map[string]time.Time
	all       chan struct{}
}

func (b *bench) track(ctx context.Context, ns string, n int) (*tracker, error) {
	t := &tracker{n: n, createdAt: make(map[string]time.Time, n), readyAt: make(map[string]time.Time, n), all: make(chan struct{})}
	cfg := rest.CopyConfig(b.cp.Config)
	cfg.QPS, cfg.Burst = 500, 1000
	c, err := cache.New(cfg, cache.Options{Scheme: operator.Scheme, DefaultNamespaces: map[string]cache.Config{ns: {}}})
	if err != nil {
		return nil, err
	}
	inf, err := c.GetInformer(ctx, &elementsv1alpha1.HubSpotInstance{})
	if err != nil {
		return nil, err
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { t.observe(o) },
		UpdateFunc: func(_, o any) { t.observe(o) },
	}); err != nil {
		return nil, err
	}
	tctx, cancel := context.WithCancel(ctx)
	t.stop = cancel
	go func() { _ = c.Start(tctx) }()
	if !c.WaitForCacheSync(tctx) {
		cancel()
		return nil, errors.New("the tracker's cache did not sync")
	}
	return t, nil
}

func (t *tracker) created(name string, at time.Time) {
	t.mu.Lock()
	t.createdAt[name] = at
	t.mu.Unlock()
}

func (t *tracker) observe(o any) {
	obj, ok := o.(*elementsv1alpha1.HubSpotInstance)
	if !ok || obj.Status.ObservedGeneration != obj.Generation {
		return
	}
	c := meta.FindStatusCondition(obj.Status.Conditions, elementsv1alpha1.ConditionReady)
	if c == nil || c.Status != "True" || c.Reason != elementsv1alpha1.ReasonAvailable {
		return
	}
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, seen := t.readyAt[obj.Name]; seen {
		return
	}
	t.readyAt[obj.Name] = now
	if len(t.readyAt) == t.n {
		close(t.all)
	}
}

func (t *tracker) ready() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.readyAt)
}

// wait blocks until all n are Ready, printing progress, and returns when the
// last one was seen Ready.
func (t *tracker) wait(ctx context.Context, label string, timeout time.Duration) (time.Time, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-t.all:
			return t.last(), nil
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-deadline.C:
			return time.Time{}, fmt.Errorf("%s: only %d of %d Ready after %s", label, t.ready(), t.n, timeout)
		case <-tick.C:
			logf("    %s: %d/%d Ready", label, t.ready(), t.n)
		}
	}
}

func (t *tracker) last() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	var last time.Time
	for _, at := range t.readyAt {
		if at.After(last) {
			last = at
		}
	}
	return last
}

// latencies are, per object, from its create returning to it being Ready.
func (t *tracker) latencies() []time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]time.Duration, 0, len(t.readyAt))
	for name, ready := range t.readyAt {
		if created, ok := t.createdAt[name]; ok {
			d := ready.Sub(created)
			if d < 0 {
				d = 0 // seen Ready before the create call returned
			}
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

// callLog reads the simulator's request log ("GET /elements/api-v2/instances/12
// op=get status=200 duration=…") to know which instance each call was for,
// and when: the counters alone cannot say whether every object was polled
// once, or some twice and others never.
type callLog struct {
	mu   sync.Mutex
	gets map[int64][]time.Time
	// lists are the pages of listings, as they were answered.
	lists []listPage
}

type listPage struct {
	at time.Time
	// first: the page asked for no nextPage, so it starts a listing.
	first bool
}

func newCallLog() *callLog { return &callLog{gets: map[int64][]time.Time{}} }

func (l *callLog) Write(p []byte) (int, error) {
	now := time.Now()
	for _, line := range strings.Split(strings.TrimSpace(string(p)), "\n") {
		fields := strings.Fields(line)
		if len(fields) >= 4 && fields[0] == "GET" && fields[2] == "op=list" && fields[3] == "status=200" {
			l.mu.Lock()
			l.lists = append(l.lists, listPage{at: now, first: !strings.Contains(fields[1], "nextPage=")})
			l.mu.Unlock()
			continue
		}
		if len(fields) < 4 || fields[0] != "GET" || fields[2] != "op=get" || fields[3] != "status=200" {
			continue
		}
		path := fields[1]
		id, err := strconv.ParseInt(path[strings.LastIndexByte(path, '/')+1:], 10, 64)
		if err != nil {
			continue
		}
		l.mu.Lock()
		l.gets[id] = append(l.gets[id], now)
		l.mu.Unlock()
	}
	return len(p), nil
}

func (l *callLog) reset() {
	l.mu.Lock()
	l.gets = map[int64][]time.Time{}
	l.lists = nil
	l.mu.Unlock()
}

// listing is one listing of the account: its pages, answered one after the
// other.
type listing struct {
	first, last time.Time
	pages       int
}

// listings groups the pages answered since the last reset into listings
// (one account: one listing at a time).
func (l *callLog) listings() []listing {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []listing
	for _, p := range l.lists {
		if n := len(out); n > 0 && !p.first {
			out[n-1].last = p.at
			out[n-1].pages++
			continue
		}
		out = append(out, listing{first: p.at, last: p.at, pages: 1})
	}
	return out
}

// lastList is when the last page of a listing was answered; zero if none
// since the last reset.
func (l *callLog) lastList() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lists) == 0 {
		return time.Time{}
	}
	return l.lists[len(l.lists)-1].at
}

// pollStats summarizes the GETs since the last reset: per-object periods
// between consecutive GETs, and how many objects of ids were never polled.
type pollStats struct {
	gets                      int
	objects                   int
	minPeriod, medianPeriod   time.Duration
	maxPeriod                 time.Duration
	periods                   int
	neverPolled, polledMaxOne int
	maxPerObject              int
}

func (l *callLog) stats(ids []int64) pollStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	var s pollStats
	var periods []time.Duration
	for _, id := range ids {
		times := l.gets[id]
		s.objects++
		s.gets += len(times)
		s.maxPerObject = max(s.maxPerObject, len(times))
		switch len(times) {
		case 0:
			s.neverPolled++
		case 1:
			s.polledMaxOne++
		}
		for i := 1; i < len(times); i++ {
			periods = append(periods, times[i].Sub(times[i-1]))
		}
	}
	slices.Sort(periods)
	s.periods = len(periods)
	if len(periods) > 0 {
		s.minPeriod, s.medianPeriod, s.maxPeriod = periods[0], percentile(periods, 0.5), periods[len(periods)-1]
	}
	return s
}

// cacheSyncFloor times what any controller-runtime operator pays before its
// first reconcile after a restart: a cache of the HubSpotInstances and of
// Secret metadata, as the operator's, listed and synced from kube-apiserver.
func (b *bench) cacheSyncFloor(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	c, err := cache.New(rest.CopyConfig(b.cp.Config), cache.Options{Scheme: operator.Scheme, DefaultTransform: operator.SlimCachedObjects})
	if err != nil {
		return 0, err
	}
	secrets := &metav1.PartialObjectMetadata{}
	secrets.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	for _, obj := range []client.Object{&elementsv1alpha1.HubSpotInstance{}, secrets} {
		if _, err := c.GetInformer(ctx, obj); err != nil {
			return 0, err
		}
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = c.Start(sctx) }()
	if !c.WaitForCacheSync(sctx) {
		return 0, errors.New("the floor's cache did not sync")
	}
	return time.Since(start), nil
}
