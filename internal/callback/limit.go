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
const (
	// DefaultMaxInFlight is how many requests the handler serves at once; one
	// more is answered 503 at once.
	DefaultMaxInFlight = 32
	// DefaultRate is how many requests per second the handler admits over
	// all clients, on average; the rest are answered 429.
	DefaultRate = 10.0
	// DefaultBurst is how many requests may arrive at once before DefaultRate
	// applies: twice DefaultRate, as WithRateLimit's default burst.
	DefaultBurst = 20
)

// overloadedRetryAfter is the Retry-After of a 503: a callback takes well
// under a second, so a slot is soon free.
const overloadedRetryAfter = time.Second

// WithMaxInFlight bounds how many requests the handler serves at once; a
// request beyond it is answered 503 with Retry-After, without waiting and
// without an API call. n <= 0 keeps DefaultMaxInFlight.
func WithMaxInFlight(n int) Option {
	return func(h *Handler) {
		if n > 0 {
			h.maxInFlight = n
		}
	}
}

// WithRateLimit bounds the rate of requests the handler admits, over all
// clients: a token bucket refilled with perSecond tokens a second and
// holding burst of them. A request that finds it empty is answered 429 with
// Retry-After. perSecond <= 0 keeps DefaultRate and math.Inf(1) lifts the
// limit; burst <= 0 means twice perSecond, at least 1.
func WithRateLimit(perSecond float64, burst int) Option {
	return func(h *Handler) {
		if perSecond > 0 && !math.IsNaN(perSecond) {
			h.ratePerSecond = perSecond
		}
		h.burst = burst
	}
}

// admission is the handler's rate and concurrency limit.
type admission struct {
	limiter  *rate.Limiter
	inFlight chan struct{}
}

func newAdmission(maxInFlight int, perSecond float64, burst int) *admission {
	if burst <= 0 {
		burst = int(min(math.Ceil(2*perSecond), math.MaxInt32))
		burst = max(1, burst)
	}
	limit := rate.Limit(perSecond)
	if math.IsInf(perSecond, 1) {
		limit = rate.Inf
	}
	return &admission{limiter: rate.NewLimiter(limit, burst), inFlight: make(chan struct{}, maxInFlight)}
}

// admit takes a token and an in-flight slot, or answers the request itself
// (429 or 503, with Retry-After) and returns false. It never waits. A
// caller that was admitted calls done when it has answered.
func (a *admission) admit(w http.ResponseWriter) (done func(), ok bool) {
	now := time.Now()
	reservation := a.limiter.ReserveN(now, 1)
	if !reservation.OK() {
		refuseAdmission(w, http.StatusTooManyRequests, resultThrottled, time.Second)
		return nil, false
	}
	if delay := reservation.DelayFrom(now); delay > 0 {
		// Not waiting for the token: give it back, and tell the client
		// when there will be one.
		reservation.CancelAt(now)
		refuseAdmission(w, http.StatusTooManyRequests, resultThrottled, delay)
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
