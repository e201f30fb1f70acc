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

package callback

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/time/rate"
)

// Admission limits of the callback handler. A person consents a few times a
// day at most, so these leave ample room for people and link checkers while
// a flood from the internet is refused before it reaches the API server.
//
// The state's signature is checked before any limit is spent: it costs an
// HMAC and no API call. Callbacks whose state this operator signed (and
// that has not expired) draw on their own budget, which nobody without the
// signing key can touch; everything else (forged, expired or missing
// states, wrong paths and methods) draws on a separate one. So a flood of
// forged callbacks is answered 429 without locking a person's genuine
// consent out.
const (
	// DefaultMaxInFlight is how many callbacks with a genuine state the
	// handler serves at once (they are the ones that call the API server);
	// one more is answered 503 at once.
	DefaultMaxInFlight = 32
	// DefaultRate is how many callbacks with a genuine state per second the
	// handler admits over all clients, on average; the rest are answered 429.
	DefaultRate = 10.0
	// DefaultBurst is how many of them may arrive at once before DefaultRate
	// applies: twice DefaultRate, as WithRateLimit's default burst.
	DefaultBurst = 20
	// DefaultUnverifiedRate and DefaultUnverifiedBurst bound the answers to
	// every other request (forged or expired states, malformed queries):
	// they cost no API call, but each is logged and counted.
	DefaultUnverifiedRate  = 10.0
	DefaultUnverifiedBurst = 20
)

// overloadedRetryAfter is the Retry-After of a 503: a callback takes well
// under a second, so a slot is soon free.
const overloadedRetryAfter = time.Second

// WithMaxInFlight bounds how many callbacks with a genuine state the handler
// serves at once; one beyond it is answered 503 with Retry-After, without
// waiting and without an API call. n <= 0 keeps DefaultMaxInFlight.
func WithMaxInFlight(n int) Option {
	return func(h *Handler) {
		if n > 0 {
			h.maxInFlight = n
		}
	}
}

// WithRateLimit bounds the rate of callbacks with a genuine state the
// handler admits, over all clients: a token bucket refilled with perSecond
// tokens a second and holding burst of them. A callback that finds it empty
// is answered 429 with Retry-After. perSecond <= 0 keeps DefaultRate and
// math.Inf(1) lifts the limit; burst <= 0 means twice perSecond, at least 1.
func WithRateLimit(perSecond float64, burst int) Option {
	return func(h *Handler) {
		if perSecond > 0 && !math.IsNaN(perSecond) {
			h.verifiedLimit.perSecond = perSecond
		}
		h.verifiedLimit.burst = burst
	}
}

// WithUnverifiedRateLimit bounds, as WithRateLimit does, the rate of answers
// to requests without a genuine state; it defaults to DefaultUnverifiedRate.
func WithUnverifiedRateLimit(perSecond float64, burst int) Option {
	return func(h *Handler) {
		if perSecond > 0 && !math.IsNaN(perSecond) {
			h.unverifiedLimit.perSecond = perSecond
		}
		h.unverifiedLimit.burst = burst
	}
}

// rateLimit is a token bucket's configuration.
type rateLimit struct {
	perSecond float64
	burst     int
}

func (l rateLimit) limiter() *rate.Limiter {
	burst := l.burst
	if burst <= 0 {
		burst = max(1, int(min(math.Ceil(2*l.perSecond), math.MaxInt32)))
	}
	limit := rate.Limit(l.perSecond)
	if math.IsInf(l.perSecond, 1) {
		limit = rate.Inf
	}
	return rate.NewLimiter(limit, burst)
}

// admission is the handler's rate and concurrency limit.
type admission struct {
	verified   *rate.Limiter
	unverified *rate.Limiter
	inFlight   chan struct{}
}

func newAdmission(maxInFlight int, verified, unverified rateLimit) *admission {
	return &admission{verified: verified.limiter(), unverified: unverified.limiter(),
		inFlight: make(chan struct{}, maxInFlight)}
}

// admitVerified takes a token of the genuine callbacks' budget and an
// in-flight slot, or answers the request itself (429 or 503, with
// Retry-After) and returns false. It never waits. A caller that was
// admitted calls done when it has answered.
func (a *admission) admitVerified(w http.ResponseWriter) (done func(), ok bool) {
	if !takeToken(w, a.verified) {
		return nil, false
	}
	select {
	case a.inFlight <- struct{}{}:
		return func() { <-a.inFlight }, true
	default:
		refuseAdmission(w, http.StatusServiceUnavailable, resultOverloaded, overloadedRetryAfter)
		return nil, false
	}
}

// admitUnverified takes a token of the budget of requests without a genuine
// state, or answers 429 itself and returns false. Such a request needs no
// in-flight slot: it is answered without an API call.
func (a *admission) admitUnverified(w http.ResponseWriter) bool {
	return takeToken(w, a.unverified)
}

// takeToken never waits: a client told when to come back costs nothing
// meanwhile, one held open costs a connection.
func takeToken(w http.ResponseWriter, limiter *rate.Limiter) bool {
	now := time.Now()
	reservation := limiter.ReserveN(now, 1)
	if !reservation.OK() {
		refuseAdmission(w, http.StatusTooManyRequests, resultThrottled, time.Second)
		return false
	}
	if delay := reservation.DelayFrom(now); delay > 0 {
		reservation.CancelAt(now)
		refuseAdmission(w, http.StatusTooManyRequests, resultThrottled, delay)
		return false
	}
	return true
}

// refuseAdmission answers a request the limits turned away. Nothing of it
// was looked at, so nothing was used up: the same address works later.
func refuseAdmission(w http.ResponseWriter, status int, result string, retryAfter time.Duration) {
	callbacksTotal.WithLabelValues(result).Inc()
	seconds := max(1, int64(math.Ceil(retryAfter.Seconds())))
	w.Header().Set("Retry-After", strconv.FormatInt(seconds, 10))
	p := page{Status: status, Title: "Too many requests",
		Message: "The operator receives more requests here than it accepts. Nothing was used up: reload this page in a few seconds."}
	if status == http.StatusServiceUnavailable {
		p.Title = "Temporarily unavailable"
		p.Message = "The operator is busy with other authorization responses. Nothing was used up: reload this page in a moment."
	}
	writePage(w, p)
}
