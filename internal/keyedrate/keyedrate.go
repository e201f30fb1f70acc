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

// Package keyedrate keeps a token bucket per key (an account, a set of
// credentials) for as long as the bucket remembers something.
//
// Keys come from tenant data: a tenant who rewrites a credentials Secret in a
// loop makes a new key each time. A bucket that is full again and has not
// been used for a while carries no state worth keeping (a fresh one, made
// on the key's next use, behaves exactly the same), so such buckets are
// forgotten, and the map holds only the keys in recent use.
package keyedrate

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultIdle is how long a full bucket is kept after its last use. It
// only trades memory for the cost of a sweep: forgetting a full bucket
// changes no answer.
const DefaultIdle = 5 * time.Minute

// Limiters maps keys to token buckets. It is safe for concurrent use.
//
// A caller must ask Get for a key's limiter every time it uses it, not keep
// the limiter: a kept limiter outlives its map entry, and the key's next
// Get would make a second bucket for the same key.
type Limiters struct {
	idle time.Duration
	now  func() time.Time

	mu      sync.Mutex
	byKey   map[string]*entry
	sweptAt time.Time
}

type entry struct {
	limiter *rate.Limiter
	usedAt  time.Time
}

// Option configures Limiters.
type Option func(*Limiters)

// WithClock reads time from now (tests).
func WithClock(now func() time.Time) Option {
	return func(l *Limiters) { l.now = now }
}

// WithIdle sets how long a full bucket is kept after its last use; d <= 0
// keeps DefaultIdle.
func WithIdle(d time.Duration) Option {
	return func(l *Limiters) {
		if d > 0 {
			l.idle = d
		}
	}
}

// New returns an empty map of buckets.
func New(opts ...Option) *Limiters {
	l := &Limiters{idle: DefaultIdle, now: time.Now, byKey: map[string]*entry{}}
	for _, opt := range opts {
		opt(l)
	}
	return l
}

// Get returns key's limiter, made with limit and burst when the key has
// none; the first Get of a key fixes them until the bucket is forgotten.
func (l *Limiters) Get(key string, limit rate.Limit, burst int) *rate.Limiter {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	// At most one sweep per idle period, so its cost is spread over the
	// Gets of that period.
	if now.Sub(l.sweptAt) >= l.idle {
		for k, e := range l.byKey {
			if forgettable(e.limiter, e.usedAt, now, l.idle) {
				delete(l.byKey, k)
			}
		}
		l.sweptAt = now
	}
	e := l.byKey[key]
	if e == nil {
		e = &entry{limiter: rate.NewLimiter(limit, burst)}
		l.byKey[key] = e
	}
	e.usedAt = now
	return e.limiter
}

// Len is how many buckets are kept.
func (l *Limiters) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.byKey)
}

// Holds reports whether key has a bucket now.
func (l *Limiters) Holds(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.byKey[key]
	return ok
}

// forgettable: the bucket has not been used for idle, and is full, so a
// fresh one would answer exactly as it does. A bucket that is not full yet
// still holds back its key's callers, and is kept until it is.
func forgettable(limiter *rate.Limiter, usedAt, now time.Time, idle time.Duration) bool {
	if now.Sub(usedAt) < idle {
		return false
	}
	// An unlimited bucket never counts its tokens, so it is always as good
	// as new.
	return limiter.Limit() == rate.Inf || limiter.TokensAt(now) >= float64(limiter.Burst())
}
