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

package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Fault makes an operation misbehave. Rates are fractions in [0, 1] drawn
// per request from the seeded randomness; FailNext, CommitLateNext and
// CommitFailNext are deterministic and are used up, in that order, before any
// rate is drawn.
//
// The Commit faults model a platform that acts on a request and then answers
// late or badly: the operation is applied to the simulator's state, as a
// successful one would be, and only the answer misbehaves. They exist to test
// a client's exactly-once behaviour: a create whose client timed out, or
// whose proxy answered 503 after forwarding it, may still have created the
// instance, now or a little later.
type Fault struct {
	ErrorRate          float64       // fraction answered 500, 502 or 503
	RateLimitRate      float64       // fraction answered 429 with Retry-After
	RetryAfter         time.Duration // Retry-After of 429s; 0 → 1s
	RetryAfterHTTPDate bool          // send Retry-After as an HTTP date instead of seconds
	Latency            time.Duration // added to every request of the operation
	HangRate           float64       // fraction that hang until the client gives up or HangFor elapses, then 504
	HangFor            time.Duration // 0 → 2 minutes
	FailNext           int           // the next N requests answer Status
	Status             int           // status for FailNext and FailAlways; 0 → 500
	Body               string        // raw body for FailNext and FailAlways answers; "" → a JSON error body

	// FailAlways answers every request Status, as FailNext does, but is
	// never used up: a refusal that resending cannot pass, such as SAP's 429
	// for a payload or a run time over its limits. It acts after the Next
	// counts and before any rate.
	FailAlways bool
	// Message is the message of the JSON error body of FailNext and
	// FailAlways answers; "" → "simulated failure".
	Message string
	// NoRetryAfter leaves Retry-After off 429 answers, as a limit that is
	// not a rate limit would; by default every 429 carries one.
	NoRetryAfter bool

	// CommitLateRate is the fraction of requests that are applied and
	// answered only AnswerAfter later, as a platform that commits a create
	// and answers after its client has timed out: the client sees a timeout
	// although the instance exists.
	CommitLateRate float64
	// CommitLateNext makes the next N requests commit late, as CommitLateRate.
	CommitLateNext int
	// AnswerAfter is how long after the fault acts (after Latency, if any)
	// a committed-late request is answered with what the operation
	// answered; 0 → 2 minutes. The answer never goes out before the commit,
	// and if the client goes away first it gets nothing (counted as 504, as
	// a hang is).
	AnswerAfter time.Duration
	// CommitLateReset closes the connection of committed-late requests
	// instead of answering them, AnswerAfter after the fault acts (here 0 →
	// at once): a connection reset after the platform received and applied
	// the request. The request counts under status 0. Served in process
	// (ServeHTTP called directly), it panics with http.ErrAbortHandler.
	CommitLateReset bool

	// CommitFailRate is the fraction of requests that are applied and then
	// answered CommitFailStatus, as by a proxy that forwarded the request to
	// the platform, which committed it, and answered 503 itself. A request
	// the operation refuses (a 400, say) is answered CommitFailStatus too,
	// with nothing applied.
	CommitFailRate float64
	// CommitFailNext makes the next N requests commit and fail, as CommitFailRate.
	CommitFailNext int
	// CommitFailStatus is the answer of committed-then-failed requests; 0 → 503.
	CommitFailStatus int
	// CommitFailBody is their raw body (served as text/html when it starts
	// with "<", else as application/json); "" → the simulator's JSON error body.
	CommitFailBody string

	// CommitDelay applies a committed request (CommitLate or CommitFail) this
	// long after the fault acts instead of at once, as a platform that
	// commits a few seconds after the request arrived: the instance shows in
	// GET and the list only then, even after the client has given up. A
	// committed-late answer waits for the commit; a committed-then-failed
	// answer goes out at once, before the commit.
	CommitDelay time.Duration
}

func (f Fault) isZero() bool { return f == Fault{} }

// SetFault sets the fault of one operation, replacing what was set before; op
// "" or "*" sets it on every operation. A zero Fault clears. An unknown op
// panics: a typo would otherwise silently test nothing.
func (s *Simulator) SetFault(op string, f Fault) {
	ops := []string{op}
	if op == "" || op == "*" {
		ops = Operations
	} else if !isOperation(op) {
		panic(fmt.Sprintf("simulator: SetFault on unknown operation %q; use one of %s", op, strings.Join(Operations, ", ")))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, op := range ops {
		if f.isZero() {
			delete(s.faults, op)
			continue
		}
		fault := f
		s.faults[op] = &fault
	}
}

// ClearFaults removes every fault.
func (s *Simulator) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = map[string]*Fault{}
}

// Faults returns a copy of the faults in force, by operation.
func (s *Simulator) Faults() map[string]Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	faults := make(map[string]Fault, len(s.faults))
	for op, f := range s.faults {
		faults[op] = *f
	}
	return faults
}

func isOperation(op string) bool {
	for _, known := range Operations {
		if op == known {
			return true
		}
	}
	return false
}

// commitKind says whether, and how, a fault applies the request itself.
type commitKind int

const (
	noCommit   commitKind = iota
	commitLate            // applied, answered late or not at all
	commitFail            // applied, answered an error
)

// verdict is what a fault decided for one request.
type verdict struct {
	latency    time.Duration
	hangFor    time.Duration // > 0: hang
	status     int           // > 0: answer this status
	body       string
	provider   string
	message    string
	retryAfter time.Duration
	httpDate   bool
	// noRetryAfter leaves Retry-After off a 429.
	noRetryAfter bool

	commit      commitKind
	commitDelay time.Duration
	answerAfter time.Duration
	reset       bool
}

// spent reports whether nothing in f acts any more.
func (f *Fault) spent() bool {
	return f.FailNext == 0 && !f.FailAlways && f.CommitLateNext == 0 && f.CommitFailNext == 0 &&
		f.ErrorRate == 0 && f.RateLimitRate == 0 && f.HangRate == 0 &&
		f.CommitLateRate == 0 && f.CommitFailRate == 0 && f.Latency == 0
}

func (s *Simulator) decide(op string) (verdict, bool) {
	s.mu.Lock()
	f := s.faults[op]
	if f == nil {
		s.mu.Unlock()
		return verdict{}, false
	}
	v := verdict{latency: f.Latency, retryAfter: f.RetryAfter, httpDate: f.RetryAfterHTTPDate, noRetryAfter: f.NoRetryAfter}
	// One deterministic count is used up per request, FailNext first.
	failNext, lateNext, commitFailNext := f.FailNext > 0, false, false
	switch {
	case failNext:
		f.FailNext--
		v.status, v.body = f.Status, f.Body
	case f.CommitLateNext > 0:
		f.CommitLateNext--
		lateNext = true
	case f.CommitFailNext > 0:
		f.CommitFailNext--
		commitFailNext = true
	case f.FailAlways:
		// Counted as a FailNext that is never used up.
		failNext = true
		v.status, v.body = f.Status, f.Body
	}
	fault := *f
	if f.spent() {
		// Spent: keep Faults() showing only what still acts.
		delete(s.faults, op)
	}
	s.mu.Unlock()

	if v.retryAfter <= 0 {
		v.retryAfter = defaultRetryAft
	}
	// Rates are drawn only when set, and the commit rates last, so that
	// adding them leaves the draws of the older faults as they were.
	switch {
	case failNext:
		if v.status < 200 || v.status > 599 {
			v.status = http.StatusInternalServerError
		}
		v.message = fault.Message
		if v.message == "" {
			v.message = "simulated failure"
		}
		if v.status == http.StatusBadRequest || v.status == http.StatusBadGateway {
			v.provider = "simulated provider failure"
		}
	case lateNext:
		v.commitLate(fault)
	case commitFailNext:
		v.commitFail(fault)
	case fault.HangRate > 0 && s.draw() < fault.HangRate:
		v.hangFor = fault.HangFor
		if v.hangFor <= 0 {
			v.hangFor = defaultHangFor
		}
	case fault.RateLimitRate > 0 && s.draw() < fault.RateLimitRate:
		v.status, v.message = http.StatusTooManyRequests, "Rate limit exceeded (simulated)"
	case fault.ErrorRate > 0 && s.draw() < fault.ErrorRate:
		v.status = s.pick([]int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable})
		v.message = "simulated failure"
		if v.status == http.StatusBadGateway {
			v.provider = "simulated provider failure"
		}
	case fault.CommitLateRate > 0 && s.draw() < fault.CommitLateRate:
		v.commitLate(fault)
	case fault.CommitFailRate > 0 && s.draw() < fault.CommitFailRate:
		v.commitFail(fault)
	}
	return v, true
}

func (v *verdict) commitLate(f Fault) {
	v.commit, v.commitDelay, v.answerAfter, v.reset = commitLate, f.CommitDelay, f.AnswerAfter, f.CommitLateReset
	if v.answerAfter <= 0 && !v.reset {
		v.answerAfter = defaultHangFor
	}
}

func (v *verdict) commitFail(f Fault) {
	v.commit, v.commitDelay, v.status, v.body = commitFail, f.CommitDelay, f.CommitFailStatus, f.CommitFailBody
	if v.status < 200 || v.status > 599 {
		v.status = http.StatusServiceUnavailable
	}
	v.message = http.StatusText(v.status) + " (simulated, after the request was applied)"
	if v.status == http.StatusBadGateway {
		v.provider = "simulated provider failure"
	}
}

// injectFault answers the request itself when a fault says so; handle is
// the operation, for the faults that apply it.
func (s *Simulator) injectFault(w *statusWriter, r *http.Request, op string, handle http.HandlerFunc) bool {
	v, ok := s.decide(op)
	if !ok {
		return false
	}
	if v.latency > 0 && !wait(r.Context(), v.latency) {
		s.writeError(w, http.StatusGatewayTimeout, "The client went away during simulated latency", "")
		return true
	}
	if v.hangFor > 0 {
		wait(r.Context(), v.hangFor)
		s.writeError(w, http.StatusGatewayTimeout, "Gateway timeout (simulated hanging request)", "")
		return true
	}
	if v.commit != noCommit {
		s.commitThenAnswer(w, r, op, v, handle)
		return true
	}
	if v.status == 0 {
		return false
	}
	if v.status == http.StatusTooManyRequests && !v.noRetryAfter {
		if v.httpDate {
			// Rounded up, because an HTTP date has whole seconds and must not
			// come before the delay meant.
			w.Header().Set("Retry-After", s.now().Add(v.retryAfter+time.Second-1).UTC().Format(http.TimeFormat))
		} else {
			w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(v.retryAfter.Seconds())), 10))
		}
	}
	s.writeFault(w, v)
	return true
}

// writeFault writes a fault's status with its raw body or a JSON error body.
func (s *Simulator) writeFault(w http.ResponseWriter, v verdict) {
	if v.body != "" {
		contentType := "application/json"
		if strings.HasPrefix(strings.TrimSpace(v.body), "<") {
			contentType = "text/html; charset=utf-8"
		}
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(v.status)
		_, _ = w.Write([]byte(v.body))
		return
	}
	s.writeError(w, v.status, v.message, v.provider)
}

// wait reports whether d elapsed before ctx was done.
func wait(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// faultJSON is the knob's wire form. Durations are Go duration strings
// ("1.5s") or numbers of milliseconds.
type faultJSON struct {
	ErrorRate          float64      `json:"errorRate,omitempty"`
	RateLimitRate      float64      `json:"rateLimitRate,omitempty"`
	RetryAfter         jsonDuration `json:"retryAfter,omitempty"`
	RetryAfterHTTPDate bool         `json:"retryAfterHttpDate,omitempty"`
	Latency            jsonDuration `json:"latency,omitempty"`
	HangRate           float64      `json:"hangRate,omitempty"`
	HangFor            jsonDuration `json:"hangFor,omitempty"`
	FailNext           int          `json:"failNext,omitempty"`
	Status             int          `json:"status,omitempty"`
	Body               string       `json:"body,omitempty"`
	FailAlways         bool         `json:"failAlways,omitempty"`
	Message            string       `json:"message,omitempty"`
	NoRetryAfter       bool         `json:"noRetryAfter,omitempty"`
	CommitLateRate     float64      `json:"commitLateRate,omitempty"`
	CommitLateNext     int          `json:"commitLateNext,omitempty"`
	AnswerAfter        jsonDuration `json:"answerAfter,omitempty"`
	CommitLateReset    bool         `json:"commitLateReset,omitempty"`
	CommitFailRate     float64      `json:"commitFailRate,omitempty"`
	CommitFailNext     int          `json:"commitFailNext,omitempty"`
	CommitFailStatus   int          `json:"commitFailStatus,omitempty"`
	CommitFailBody     string       `json:"commitFailBody,omitempty"`
	CommitDelay        jsonDuration `json:"commitDelay,omitempty"`
}

// MarshalJSON writes durations as Go duration strings.
func (f Fault) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultJSON{
		ErrorRate: f.ErrorRate, RateLimitRate: f.RateLimitRate, RetryAfter: jsonDuration(f.RetryAfter),
		RetryAfterHTTPDate: f.RetryAfterHTTPDate, Latency: jsonDuration(f.Latency), HangRate: f.HangRate,
		HangFor: jsonDuration(f.HangFor), FailNext: f.FailNext, Status: f.Status, Body: f.Body,
		FailAlways: f.FailAlways, Message: f.Message, NoRetryAfter: f.NoRetryAfter,
		CommitLateRate: f.CommitLateRate, CommitLateNext: f.CommitLateNext, AnswerAfter: jsonDuration(f.AnswerAfter),
		CommitLateReset: f.CommitLateReset, CommitFailRate: f.CommitFailRate, CommitFailNext: f.CommitFailNext,
		CommitFailStatus: f.CommitFailStatus, CommitFailBody: f.CommitFailBody, CommitDelay: jsonDuration(f.CommitDelay),
	})
}

// UnmarshalJSON reads durations as Go duration strings or milliseconds, and
// refuses values the simulator could not honour.
func (f *Fault) UnmarshalJSON(data []byte) error {
	var wire faultJSON
	if err := json.Unmarshal(data, &wire); err != nil {
		return err
	}
	decoded := Fault{
		ErrorRate: wire.ErrorRate, RateLimitRate: wire.RateLimitRate, RetryAfter: time.Duration(wire.RetryAfter),
		RetryAfterHTTPDate: wire.RetryAfterHTTPDate, Latency: time.Duration(wire.Latency), HangRate: wire.HangRate,
		HangFor: time.Duration(wire.HangFor), FailNext: wire.FailNext, Status: wire.Status, Body: wire.Body,
		FailAlways: wire.FailAlways, Message: wire.Message, NoRetryAfter: wire.NoRetryAfter,
		CommitLateRate: wire.CommitLateRate, CommitLateNext: wire.CommitLateNext, AnswerAfter: time.Duration(wire.AnswerAfter),
		CommitLateReset: wire.CommitLateReset, CommitFailRate: wire.CommitFailRate, CommitFailNext: wire.CommitFailNext,
		CommitFailStatus: wire.CommitFailStatus, CommitFailBody: wire.CommitFailBody, CommitDelay: time.Duration(wire.CommitDelay),
	}
	if err := decoded.validate(); err != nil {
		return err
	}
	*f = decoded
	return nil
}

func (f Fault) validate() error {
	var problems []string
	for name, rate := range map[string]float64{
		"errorRate": f.ErrorRate, "rateLimitRate": f.RateLimitRate, "hangRate": f.HangRate,
		"commitLateRate": f.CommitLateRate, "commitFailRate": f.CommitFailRate,
	} {
		if math.IsNaN(rate) || rate < 0 || rate > 1 {
			problems = append(problems, name+" must be between 0 and 1")
		}
	}
	for name, d := range map[string]time.Duration{
		"retryAfter": f.RetryAfter, "latency": f.Latency, "hangFor": f.HangFor,
		"answerAfter": f.AnswerAfter, "commitDelay": f.CommitDelay,
	} {
		if d < 0 {
			problems = append(problems, name+" must not be negative")
		}
	}
	for name, n := range map[string]int{"failNext": f.FailNext, "commitLateNext": f.CommitLateNext, "commitFailNext": f.CommitFailNext} {
		if n < 0 {
			problems = append(problems, name+" must not be negative")
		}
	}
	for name, status := range map[string]int{"status": f.Status, "commitFailStatus": f.CommitFailStatus} {
		if status != 0 && (status < 200 || status > 599) {
			problems = append(problems, name+" must be between 200 and 599")
		}
	}
	if len(problems) == 0 {
		return nil
	}
	sort.Strings(problems)
	return errors.New(strings.Join(problems, "; "))
}

type jsonDuration time.Duration

func (d jsonDuration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

func (d *jsonDuration) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		*d = 0
		return nil
	}
	var text string
	if err := json.Unmarshal(data, &text); err == nil {
		parsed, err := time.ParseDuration(text)
		if err != nil {
			return fmt.Errorf("invalid duration %q: use a Go duration such as \"1.5s\" or a number of milliseconds", clip(text))
		}
		*d = jsonDuration(parsed)
		return nil
	}
	var millis float64
	if err := json.Unmarshal(data, &millis); err != nil {
		return errors.New("a duration must be a Go duration string or a number of milliseconds")
	}
	if math.IsNaN(millis) || math.Abs(millis) > float64(math.MaxInt64/int64(time.Millisecond)) {
		return errors.New("duration out of range")
	}
	*d = jsonDuration(millis * float64(time.Millisecond))
	return nil
}
