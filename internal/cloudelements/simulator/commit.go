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
	"bytes"
	"context"
	"io"
	"net/http"
	"time"
)

// Outcomes of the Commit faults, as CommitCounts names them.
const (
	// OutcomeCommittedLate counts requests a CommitLate fault applied; their
	// answer came late, or never, or as a closed connection.
	OutcomeCommittedLate = "committedLate"
	// OutcomeCommittedFailed counts requests a CommitFail fault applied and
	// answered with an error.
	OutcomeCommittedFailed = "committedFailed"
)

// commitThenAnswer applies the request as the platform would, at once or
// CommitDelay later, and answers the way the fault says. Nothing here holds
// s.mu while it waits: the operation takes the lock only for its own work,
// and a delayed commit runs on a timer, so other requests go on.
func (s *Simulator) commitThenAnswer(w *statusWriter, r *http.Request, op string, v verdict, handle http.HandlerFunc) {
	applied := make(chan *answer, 1) // buffered: a late commit must not wait for a client long gone
	apply := func(r *http.Request) {
		a := &answer{header: http.Header{}}
		handle(a, r)
		if a.succeeded() {
			s.countCommit(v.commit, op)
		}
		applied <- a
	}
	if v.commitDelay > 0 {
		detached, err := detach(r)
		if err != nil {
			s.fail(w, badRequest("Could not read the request body"))
			return
		}
		time.AfterFunc(v.commitDelay, func() { apply(detached) })
	} else {
		apply(r)
	}

	if v.commit == commitFail {
		// A proxy's answer: it does not wait for a delayed commit.
		s.writeFault(w, v)
		return
	}
	var a *answer
	if !wait(r.Context(), v.answerAfter) {
		s.writeError(w, http.StatusGatewayTimeout, "The client went away before the simulated late answer", "")
		return
	}
	select {
	case a = <-applied:
	case <-r.Context().Done():
		s.writeError(w, http.StatusGatewayTimeout, "The client went away before the simulated late answer", "")
		return
	}
	if v.reset {
		w.commit(0) // counted and logged as status 0: no answer went out
		// net/http closes the connection (HTTP/1) or resets the stream
		// (HTTP/2) without an answer, and logs nothing for this value.
		panic(http.ErrAbortHandler)
	}
	a.replay(w)
}

// detach copies a request so that the operation can run after the handler
// has returned and the client has gone: the body is read now, and the
// context no longer ends with the connection.
func detach(r *http.Request) (*http.Request, error) {
	var body []byte
	if r.Body != nil {
		var err error
		// One byte over the limit, so that the operation still answers 413.
		if body, err = io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1)); err != nil {
			return nil, err
		}
	}
	detached := r.Clone(context.WithoutCancel(r.Context()))
	detached.Body = io.NopCloser(bytes.NewReader(body))
	return detached, nil
}

// answer records what an operation answered, to be sent later or never.
type answer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (a *answer) Header() http.Header { return a.header }

func (a *answer) WriteHeader(status int) {
	if a.status == 0 {
		a.status = status
	}
}

func (a *answer) Write(b []byte) (int, error) {
	a.WriteHeader(http.StatusOK)
	return a.body.Write(b)
}

// succeeded reports whether the operation took effect: only a 2xx counts
// as committed.
func (a *answer) succeeded() bool {
	return a.status == 0 || a.status/100 == 2
}

func (a *answer) replay(w http.ResponseWriter) {
	for key, values := range a.header {
		w.Header()[key] = values
	}
	w.WriteHeader(max(a.status, http.StatusOK))
	_, _ = w.Write(a.body.Bytes())
}

func (s *Simulator) countCommit(kind commitKind, op string) {
	outcome := OutcomeCommittedLate
	if kind == commitFail {
		outcome = OutcomeCommittedFailed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.commits[outcome] == nil {
		s.commits[outcome] = map[string]int{}
	}
	s.commits[outcome][op]++
}

// CommittedLate returns how many requests of op a CommitLate fault applied
// (whose operation succeeded), counted when the state changed: after
// CommitDelay, whatever became of the answer.
func (s *Simulator) CommittedLate(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commits[OutcomeCommittedLate][op]
}

// CommittedFailed returns how many requests of op a CommitFail fault
// applied (whose operation succeeded) and answered with an error, counted
// when the state changed.
func (s *Simulator) CommittedFailed(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commits[OutcomeCommittedFailed][op]
}

// CommitCounts returns a copy of the commit counters: outcome
// (OutcomeCommittedLate, OutcomeCommittedFailed) → operation → requests.
// ResetCounts zeroes them with the others.
func (s *Simulator) CommitCounts() map[string]map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	counts := map[string]map[string]int{OutcomeCommittedLate: {}, OutcomeCommittedFailed: {}}
	for outcome, byOp := range s.commits {
		for op, n := range byOp {
			counts[outcome][op] = n
		}
	}
	return counts
}
