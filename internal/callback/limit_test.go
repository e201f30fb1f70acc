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
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/time/rate"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/hubspot-operator/hubspot-operator/internal/oauthstate"
)

// slowReader stands in for the API server: every Get waits until release is
// closed, then finds nothing.
type slowReader struct {
	entered chan struct{}
	release chan struct{}
	mu      sync.Mutex
	calls   int
}

func newSlowReader() *slowReader {
	return &slowReader{entered: make(chan struct{}, 100), release: make(chan struct{})}
}

func (r *slowReader) Get(ctx context.Context, key client.ObjectKey, _ client.Object, _ ...client.GetOption) error {
	r.mu.Lock()
	r.calls++
	r.mu.Unlock()
	r.entered <- struct{}{}
	select {
	case <-r.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return apierrors.NewNotFound(schema.GroupResource{Group: "elements.cloud-elements.io", Resource: "hubspotinstances"}, key.Name)
}

func (r *slowReader) List(context.Context, client.ObjectList, ...client.ListOption) error {
	panic("the callback handler never lists")
}

func (r *slowReader) callCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

// signedCallback is a callback address with an authentic state, so that the
// handler goes on to read the object it names.
func signedCallback(t *testing.T) string {
	t.Helper()
	state, _, err := testVerifier(t).Issue("ns", "name", "uid")
	if err != nil {
		t.Fatal(err)
	}
	return Path + "?" + url.Values{"code": {"a-code"}, "state": {state}}.Encode()
}

// testVerifier is the signer of signedCallback's states.
func testVerifier(t *testing.T) *oauthstate.Signer {
	t.Helper()
	signer, err := oauthstate.NewSigner([]byte(strings.Repeat("l", oauthstate.MinKeySize)), 0)
	if err != nil {
		t.Fatal(err)
	}
	return signer
}

func serveGet(h http.Handler, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec
}

func TestHandlerLimitsDefaults(t *testing.T) {
	type limits struct {
		MaxInFlight            int
		Limit, UnverifiedLimit rate.Limit
		Burst, UnverifiedBurst int
	}
	defaults := limits{MaxInFlight: DefaultMaxInFlight, Limit: DefaultRate, Burst: DefaultBurst,
		UnverifiedLimit: DefaultUnverifiedRate, UnverifiedBurst: DefaultUnverifiedBurst}
	with := func(change func(*limits)) limits {
		l := defaults
		change(&l)
		return l
	}
	tests := map[string]struct {
		opts []Option
		want limits
	}{
		"defaults":                    {want: defaults},
		"non-positive keeps defaults": {opts: []Option{WithMaxInFlight(0), WithRateLimit(-1, 0), WithUnverifiedRateLimit(-1, 0)}, want: with(func(l *limits) { l.UnverifiedBurst = 2 * DefaultUnverifiedRate })},
		"explicit": {opts: []Option{WithMaxInFlight(4), WithRateLimit(2.5, 7), WithUnverifiedRateLimit(1.5, 3)},
			want: limits{MaxInFlight: 4, Limit: 2.5, Burst: 7, UnverifiedLimit: 1.5, UnverifiedBurst: 3}},
		"burst defaults to twice rate": {opts: []Option{WithRateLimit(5, 0), WithUnverifiedRateLimit(3, 0)},
			want: with(func(l *limits) { l.Limit, l.Burst, l.UnverifiedLimit, l.UnverifiedBurst = 5, 10, 3, 6 })},
		"burst at least 1": {opts: []Option{WithRateLimit(0.1, 0)}, want: with(func(l *limits) { l.Limit, l.Burst = 0.1, 1 })},
		"an infinite rate lifts it": {opts: []Option{WithRateLimit(math.Inf(1), 0), WithUnverifiedRateLimit(math.Inf(1), 0)},
			want: with(func(l *limits) {
				l.Limit, l.Burst, l.UnverifiedLimit, l.UnverifiedBurst = rate.Inf, math.MaxInt32, rate.Inf, math.MaxInt32
			})},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			a := NewHandler(nil, nil, testVerifier(t), tc.opts...).admission
			got := limits{MaxInFlight: cap(a.inFlight),
				Limit: a.verified.Limit(), Burst: a.verified.Burst(),
				UnverifiedLimit: a.unverified.Limit(), UnverifiedBurst: a.unverified.Burst()}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("limits (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHandlerRefusesRequestsBeyondTheConcurrencyLimit(t *testing.T) {
	const limit = 3
	reader := newSlowReader()
	h := NewHandler(reader, nil, testVerifier(t), WithLogger(logr.Discard()),
		WithMaxInFlight(limit), WithRateLimit(math.Inf(1), 0))
	target := signedCallback(t)
	overloaded := testutil.ToFloat64(callbacksTotal.WithLabelValues(resultOverloaded))

	// limit requests are held inside the (slow) API server.
	held := make(chan int, limit)
	for range limit {
		go func() { held <- serveGet(h, target).Code }()
	}
	for i := range limit {
		select {
		case <-reader.entered:
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d of %d requests reached the API server", i, limit)
		}
	}

	// One more is refused at once, without an API call.
	start := time.Now()
	rec := serveGet(h, target)
	if took := time.Since(start); took > time.Second {
		t.Errorf("the refusal took %v; it must not wait for a slot", took)
	}
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("request %d got %d, want 503", limit+1, rec.Code)
	}
	if got := rec.Header().Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want 1", got)
	}
	if got := rec.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q: the refusal page lacks the security headers", got)
	}
	if got := reader.callCount(); got != limit {
		t.Errorf("the API server was called %d times, want %d: the refused request reached it", got, limit)
	}
	if got := testutil.ToFloat64(callbacksTotal.WithLabelValues(resultOverloaded)) - overloaded; got != 1 {
		t.Errorf("overloaded count rose by %v, want 1", got)
	}

	// Once the held requests finish, their slots are free again.
	close(reader.release)
	for range limit {
		if code := <-held; code != http.StatusNotFound {
			t.Errorf("a held request got %d, want 404 (the fake API server has no object)", code)
		}
	}
	if code := serveGet(h, target).Code; code != http.StatusNotFound {
		t.Errorf("after the held requests finished, a request got %d, want 404", code)
	}
}

func TestHandlerRefusesRequestsBeyondTheRateLimit(t *testing.T) {
	tests := map[string]struct {
		perSecond      float64
		burst          int
		wantRetryAfter string
	}{
		"one a second": {perSecond: 1, burst: 3, wantRetryAfter: "1"},
		"one in 10s":   {perSecond: 0.1, burst: 2, wantRetryAfter: "10"},
		"two a second": {perSecond: 2, burst: 5, wantRetryAfter: "1"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			reader := newSlowReader()
			close(reader.release)
			h := NewHandler(reader, nil, testVerifier(t), WithLogger(logr.Discard()), WithRateLimit(tc.perSecond, tc.burst))
			throttled := testutil.ToFloat64(callbacksTotal.WithLabelValues(resultThrottled))
			for i := range tc.burst {
				if code := serveGet(h, signedCallback(t)).Code; code != http.StatusNotFound {
					t.Fatalf("request %d of the burst got %d, want 404 (the fake API server has no object)", i+1, code)
				}
			}
			for i := range 3 {
				rec := serveGet(h, signedCallback(t))
				if rec.Code != http.StatusTooManyRequests {
					t.Fatalf("request %d past the burst got %d, want 429", i+1, rec.Code)
				}
				if got := rec.Header().Get("Retry-After"); got != tc.wantRetryAfter {
					t.Errorf("Retry-After = %q, want %q", got, tc.wantRetryAfter)
				}
			}
			if got := reader.callCount(); got != tc.burst {
				t.Errorf("the API server was called %d times, want %d: throttled requests reached it", got, tc.burst)
			}
			if got := testutil.ToFloat64(callbacksTotal.WithLabelValues(resultThrottled)) - throttled; got != 3 {
				t.Errorf("throttled count rose by %v, want 3", got)
			}
		})
	}
}

func TestHandlerGivesRequestsWithoutAGenuineStateABudgetOfTheirOwn(t *testing.T) {
	forged := Path + "?" + url.Values{"code": {"c"}, "state": {"Zm9yZ2Vk.Zm9yZ2Vk"}}.Encode()
	tests := map[string]struct {
		target string
		want   int
	}{
		"forged state": {target: forged, want: http.StatusForbidden},
		"no state":     {target: Path + "?code=c", want: http.StatusBadRequest},
		"another path": {target: "/elsewhere", want: http.StatusNotFound},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			reader := newSlowReader()
			close(reader.release)
			const burst = 4
			h := NewHandler(reader, nil, testVerifier(t), WithLogger(logr.Discard()),
				WithRateLimit(0.001, 1), WithUnverifiedRateLimit(0.001, burst))
			var got []int
			for range burst + 2 {
				got = append(got, serveGet(h, tc.target).Code)
			}
			// The genuine budget is one callback, and none of the above spent it.
			got = append(got, serveGet(h, signedCallback(t)).Code)
			want := []int{tc.want, tc.want, tc.want, tc.want, http.StatusTooManyRequests, http.StatusTooManyRequests, http.StatusNotFound}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("status codes (-want +got):\n%s", diff)
			}
			if got := reader.callCount(); got != 1 {
				t.Errorf("the API server was called %d times, want once, for the genuine callback", got)
			}
		})
	}
}

func TestServerBoundsEveryPhaseOfAConnection(t *testing.T) {
	srv := NewServer("127.0.0.1:0", http.NotFoundHandler()).httpServer()
	for name, set := range map[string]bool{
		"ReadHeaderTimeout": srv.ReadHeaderTimeout > 0,
		"ReadTimeout":       srv.ReadTimeout > 0,
		"WriteTimeout":      srv.WriteTimeout > defaultRequestTimeout,
		"IdleTimeout":       srv.IdleTimeout > 0,
		"MaxHeaderBytes":    srv.MaxHeaderBytes > 0 && srv.MaxHeaderBytes < http.DefaultMaxHeaderBytes,
	} {
		if !set {
			t.Errorf("the callback server's %s is not bounded", name)
		}
	}
}
