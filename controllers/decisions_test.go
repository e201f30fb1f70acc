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

// Plain tables for the reconciler's pure decisions: they run without an API
// server (go test ./controllers/ -skip TestControllers). Adding an HTTP
// status, an auth mode or an endpoint shape is one row.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
)

func apiError(status int) *cloudelements.APIError {
	return &cloudelements.APIError{StatusCode: status, Operation: "test", Message: http.StatusText(status)}
}

// platformError is the platform's own JSON error.
func platformError(status int) *cloudelements.APIError {
	e := apiError(status)
	e.PlatformError = true
	return e
}

// proxyError is an answer whose body was not the platform's JSON error.
func proxyError(status int) *cloudelements.APIError {
	return &cloudelements.APIError{StatusCode: status, Operation: "test"}
}

func connRefused() error {
	return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
}

// policy is what classifyAPIError decides: the condition reason and how the
// next attempt comes.
type policy struct {
	Reason       string
	Stalled      bool
	FromPlatform bool
	RetryAfter   time.Duration
}

func policyOf(err error) policy {
	var rerr *reconcileError
	if !errors.As(err, &rerr) {
		return policy{Reason: "not a reconcileError"}
	}
	return policy{Reason: rerr.reason, Stalled: rerr.stalled, FromPlatform: rerr.fromPlatform, RetryAfter: rerr.retryAfter}
}

func TestClassifyAPIError(t *testing.T) {
	unavailable := policy{Reason: elementsv1alpha1.ReasonAPIUnavailable}
	invalid := policy{Reason: elementsv1alpha1.ReasonInvalidConfiguration, Stalled: true, FromPlatform: true}
	unauthorized := policy{Reason: elementsv1alpha1.ReasonUnauthorized, Stalled: true, FromPlatform: true}
	rateLimited := &cloudelements.APIError{StatusCode: http.StatusTooManyRequests, RetryAfter: 7 * time.Second}

	cases := map[string]struct {
		err  error
		want policy
	}{
		"400 bad request":                 {apiError(400), invalid},
		"401 unauthorized":                {apiError(401), unauthorized},
		"403 forbidden":                   {apiError(403), unauthorized},
		"404 not found":                   {apiError(404), unavailable},
		"409 conflict":                    {apiError(409), invalid},
		"415 unsupported media type":      {apiError(415), invalid},
		"422 unprocessable":               {apiError(422), invalid},
		"429 with Retry-After":            {rateLimited, policy{Reason: elementsv1alpha1.ReasonRateLimited, RetryAfter: 7 * time.Second}},
		"429 without Retry-After":         {apiError(429), unavailable},
		"500 internal error":              {apiError(500), unavailable},
		"502 bad gateway":                 {apiError(502), unavailable},
		"503 unavailable":                 {apiError(503), unavailable},
		"504 gateway timeout":             {apiError(504), unavailable},
		"client timeout":                  {context.DeadlineExceeded, unavailable},
		"client-side rate limit":          {cloudelements.ErrClientRateLimited, unavailable},
		"connection refused":              {connRefused(), unavailable},
		"undecodable body":                {&cloudelements.DecodeError{StatusCode: 200, Err: io.ErrUnexpectedEOF}, unavailable},
		"wrapped 401 keeps its meaning":   {fmt.Errorf("outer: %w", apiError(401)), unauthorized},
		"wrapped 429 keeps its wait time": {fmt.Errorf("outer: %w", rateLimited), policy{Reason: elementsv1alpha1.ReasonRateLimited, RetryAfter: 7 * time.Second}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, policyOf(classifyAPIError("doing it", tc.err))); diff != "" {
				t.Errorf("classifyAPIError(%v) (-want +got):\n%s", tc.err, diff)
			}
		})
	}
}

func TestOutcomeFromError(t *testing.T) {
	cases := map[string]struct {
		err  error
		want outcome
	}{
		"stalled": {
			err:  stalledError(elementsv1alpha1.ReasonMissingConfiguration, "Secret %s not found", "ns/creds"),
			want: outcome{reason: elementsv1alpha1.ReasonMissingConfiguration, message: "Secret ns/creds not found", stalled: true},
		},
		"transient": {
			err:  transientError(elementsv1alpha1.ReasonAPIUnavailable, errors.New("503")),
			want: outcome{reason: elementsv1alpha1.ReasonAPIUnavailable, message: "503", progressing: true},
		},
		"wrapped stalled": {
			err:  fmt.Errorf("step: %w", stalledError(elementsv1alpha1.ReasonUnauthorized, "refused")),
			want: outcome{reason: elementsv1alpha1.ReasonUnauthorized, message: "refused", stalled: true},
		},
		"plain error": {
			err:  errors.New("etcd hiccup"),
			want: outcome{reason: elementsv1alpha1.ReasonProgressing, message: "etcd hiccup", progressing: true},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, outcomeFromError(tc.err), cmp.AllowUnexported(outcome{})); diff != "" {
				t.Errorf("outcomeFromError (-want +got):\n%s", diff)
			}
		})
	}
}

// cond is a condition without its timestamp.
type cond struct{ Type, Status, Reason string }

func TestSummarize(t *testing.T) {
	ready := outcome{ready: true, reason: elementsv1alpha1.ReasonAvailable, message: "ok"}
	stalled := outcome{reason: elementsv1alpha1.ReasonUnauthorized, message: "no", stalled: true}
	working := outcome{reason: elementsv1alpha1.ReasonAPIUnavailable, message: "retrying", progressing: true}
	waiting := outcome{reason: elementsv1alpha1.ReasonInstanceDisabled, message: "disabled"}

	cases := map[string]struct {
		before []outcome
		out    outcome
		want   []cond
	}{
		"ready": {out: ready, want: []cond{{"Ready", "True", elementsv1alpha1.ReasonAvailable}}},
		"stalled": {out: stalled, want: []cond{
			{"Ready", "False", elementsv1alpha1.ReasonUnauthorized}, {"Stalled", "True", elementsv1alpha1.ReasonUnauthorized}}},
		"progressing": {out: working, want: []cond{
			{"Ready", "False", elementsv1alpha1.ReasonAPIUnavailable}, {"Reconciling", "True", elementsv1alpha1.ReasonAPIUnavailable}}},
		"neither stalled nor progressing": {out: waiting, want: []cond{{"Ready", "False", elementsv1alpha1.ReasonInstanceDisabled}}},
		"stalled then ready drops Stalled": {before: []outcome{stalled}, out: ready,
			want: []cond{{"Ready", "True", elementsv1alpha1.ReasonAvailable}}},
		"progressing then stalled swaps Reconciling for Stalled": {before: []outcome{working}, out: stalled, want: []cond{
			{"Ready", "False", elementsv1alpha1.ReasonUnauthorized}, {"Stalled", "True", elementsv1alpha1.ReasonUnauthorized}}},
		"stalled wins over progressing": {out: outcome{reason: "X", stalled: true, progressing: true},
			want: []cond{{"Ready", "False", "X"}, {"Stalled", "True", "X"}}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			obj := &elementsv1alpha1.HubSpotInstance{ObjectMeta: metav1.ObjectMeta{Generation: 3}}
			for _, b := range tc.before {
				summarize(obj, b)
			}
			summarize(obj, tc.out)
			var got []cond
			for _, c := range obj.Status.Conditions {
				if c.ObservedGeneration != 3 {
					t.Errorf("condition %s observedGeneration %d, want 3", c.Type, c.ObservedGeneration)
				}
				got = append(got, cond{c.Type, string(c.Status), c.Reason})
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.SortSlices(func(a, b cond) bool { return a.Type < b.Type })); diff != "" {
				t.Errorf("conditions (-want +got):\n%s", diff)
			}
			if obj.Status.ObservedGeneration != 3 {
				t.Errorf("status.observedGeneration %d, want 3", obj.Status.ObservedGeneration)
			}
		})
	}
}

func TestNothingCreated(t *testing.T) {
	cases := map[string]struct {
		err  error
		want bool
	}{
		"400 refused":                         {platformError(400), true},
		"401 refused":                         {platformError(401), true},
		"403 refused":                         {platformError(403), true},
		"404 refused":                         {platformError(404), true},
		"422 refused":                         {platformError(422), true},
		"400 from a proxy, not the platform":  {proxyError(400), false},
		"401 from a proxy, not the platform":  {proxyError(401), false},
		"408 request timeout":                 {platformError(408), false},
		"409 being created":                   {platformError(409), false},
		"429 (also a timeout on SAP)":         {platformError(429), false},
		"405 unexpected":                      {platformError(405), false},
		"500 may have created":                {platformError(500), false},
		"502 may have created":                {platformError(502), false},
		"503 (a proxy may have forwarded it)": {platformError(503), false},
		"504 may have created":                {platformError(504), false},
		"client-side rate limit":              {cloudelements.ErrClientRateLimited, true},
		"connection refused":                  {connRefused(), true},
		"client timeout":                      {context.DeadlineExceeded, false},
		"connection cut":                      {io.ErrUnexpectedEOF, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := nothingCreated(tc.err); got != tc.want {
				t.Errorf("nothingCreated(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

func TestUntilPollDue(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	const uid = types.UID("0b5e6a1c-5c4f-4f0e-9d1a-7f3c2b1a0e9d")
	interval := 10 * time.Minute
	jitter := pollJitter(uid, interval)
	cases := map[string]struct {
		verifiedAt time.Time
		want       time.Duration
	}{
		"never verified: due now":        {time.Time{}, 0},
		"just verified: a full interval": {now, interval + jitter},
		"half way":                       {now.Add(-interval / 2), interval/2 + jitter},
		"exactly due":                    {now.Add(-interval - jitter), 0},
		"overdue":                        {now.Add(-2 * interval), -interval + jitter},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := untilPollDue(tc.verifiedAt, now, interval, uid); got != tc.want {
				t.Errorf("untilPollDue = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPollJitter(t *testing.T) {
	interval := 10 * time.Minute
	seen := map[time.Duration]bool{}
	for i := range 200 {
		uid := types.UID(fmt.Sprintf("uid-%d", i))
		j := pollJitter(uid, interval)
		if j < 0 || j >= time.Duration(float64(interval)*pollJitterFraction) {
			t.Fatalf("jitter %v for %s outside [0, %v)", j, uid, time.Duration(float64(interval)*pollJitterFraction))
		}
		if again := pollJitter(uid, interval); again != j {
			t.Fatalf("jitter for %s not stable: %v then %v", uid, j, again)
		}
		seen[j] = true
	}
	if len(seen) < 100 {
		t.Errorf("only %d distinct jitters for 200 objects: polls would bunch up", len(seen))
	}
}

func TestPollIntervalDefaults(t *testing.T) {
	cases := map[string]struct {
		spec *metav1.Duration
		want time.Duration
	}{
		"unset":              {nil, elementsv1alpha1.DefaultPollInterval},
		"set":                {&metav1.Duration{Duration: time.Hour}, time.Hour},
		"at the floor":       {&metav1.Duration{Duration: 30 * time.Second}, 30 * time.Second},
		"below the floor":    {&metav1.Duration{Duration: time.Second}, elementsv1alpha1.DefaultPollInterval},
		"zero (old objects)": {&metav1.Duration{}, elementsv1alpha1.DefaultPollInterval},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			spec := elementsv1alpha1.HubSpotInstanceSpec{PollInterval: tc.spec}
			if got := spec.GetPollInterval(); got != tc.want {
				t.Errorf("GetPollInterval = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRequeue(t *testing.T) {
	wake, stallRetry := 10*time.Minute, 61*time.Second
	plain := errors.New("etcd hiccup")
	cases := map[string]struct {
		err        error
		wantAfter  time.Duration
		wantReturn error
	}{
		"success: at the next wake-up": {nil, wake, nil},
		"rate limited: when told": {&reconcileError{reason: elementsv1alpha1.ReasonRateLimited, retryAfter: 7 * time.Second, err: plain},
			7 * time.Second, nil},
		"a Retry-After of a day: capped at the stall retry": {&reconcileError{reason: elementsv1alpha1.ReasonRateLimited, retryAfter: 24 * time.Hour, err: plain},
			stallRetry, nil},
		"stalled on our side: only when an input changes": {stalledError(elementsv1alpha1.ReasonMissingConfiguration, "gone"), 0, nil},
		"stalled by the platform: at the stall retry":     {classifyAPIError("polling", apiError(403)), stallRetry, nil},
		"transient: workqueue backoff":                    {plain, 0, plain},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res, err := requeue(tc.err, wake, stallRetry)
			if res.RequeueAfter != tc.wantAfter || !errors.Is(err, tc.wantReturn) || (err == nil) != (tc.wantReturn == nil) {
				t.Errorf("requeue = (%v, %v), want (%v, %v)", res.RequeueAfter, err, tc.wantAfter, tc.wantReturn)
			}
		})
	}
}

func TestStallRetry(t *testing.T) {
	cases := map[string]struct {
		interval *metav1.Duration
		min, max time.Duration
	}{
		"poll interval 1m":        {&metav1.Duration{Duration: time.Minute}, time.Minute, time.Minute * 105 / 100},
		"default 10m":             {nil, 10 * time.Minute, 10 * time.Minute * 105 / 100},
		"poll interval 1h capped": {&metav1.Duration{Duration: time.Hour}, maxStallRetry, maxStallRetry * 105 / 100},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			obj := &elementsv1alpha1.HubSpotInstance{ObjectMeta: metav1.ObjectMeta{UID: "u-1"},
				Spec: elementsv1alpha1.HubSpotInstanceSpec{PollInterval: tc.interval}}
			if got := stallRetry(obj); got < tc.min || got >= tc.max {
				t.Errorf("stallRetry = %v, want in [%v, %v)", got, tc.min, tc.max)
			}
		})
	}
}

func TestDecideCreate(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	grace := time.Minute
	marker := func(age time.Duration, holder string) string {
		return createMarker{at: now.Add(-age), holder: holder}.String()
	}
	ours := marker(10*time.Second, "us")
	cases := map[string]struct {
		marker, refused string
		want            createDecision
		wantWait        time.Duration
	}{
		"no create pending":                           {"", "", createNow, 0},
		"our attempt certainly created nothing":       {ours, ours, createNow, 0},
		"our uncertain attempt, young":                {ours, "", waitForInFlight, 50 * time.Second},
		"someone else's attempt, young":               {marker(time.Second, "them"), "", waitForInFlight, 59 * time.Second},
		"someone else's, refused by us under another": {marker(time.Second, "them"), ours, waitForInFlight, 59 * time.Second},
		"grace passed: the lookup decides":            {marker(grace, "them"), "", lookUpFirst, 0},
		"a writer whose clock runs ahead":             {marker(-time.Hour, "them"), "", waitForInFlight, grace},
		"the old format, a bare time":                 {now.Add(-2 * grace).Format(time.RFC3339), "", lookUpFirst, 0},
		"unreadable: the lookup decides":              {"garbage", "", lookUpFirst, 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, wait := decideCreate(tc.marker, tc.refused, now, grace)
			if got != tc.want || wait != tc.wantWait {
				t.Errorf("decideCreate = (%s, %v), want (%s, %v)", got, wait, tc.want, tc.wantWait)
			}
		})
	}
}

func TestCreateMarkerRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 29, 15, 4, 5, 123456789, time.UTC)
	for name, m := range map[string]createMarker{
		"with the object's UID":         {at: at, holder: "manager-7f_0a1b2c3d", uid: "6b1f0c9e-1d2a-4c1b-9a55-0f3e2d1c0b9a"},
		"with what the create applied":  {at: at, holder: "manager-7f_0a1b2c3d", uid: "6b1f0c9e-1d2a-4c1b-9a55-0f3e2d1c0b9a", applying: "3f9a0c"},
		"written by an earlier version": {at: at, holder: "manager-7f_0a1b2c3d"},
	} {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(m, parseCreateMarker(m.String()), cmp.AllowUnexported(createMarker{})); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOwnerTags(t *testing.T) {
	obj := &elementsv1alpha1.HubSpotInstance{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "crm", UID: "new"}}
	at := time.Date(2026, 11, 29, 15, 4, 5, 0, time.UTC)
	prefix := elementsv1alpha1.OwnerTagNamespacePrefix("team") + "crm/"
	cases := map[string]struct {
		marker string
		want   []string
	}{
		"no marker":                     {"", []string{prefix + "new"}},
		"written for this object":       {createMarker{at: at, holder: "p", uid: "new"}.String(), []string{prefix + "new"}},
		"restored from an earlier one":  {createMarker{at: at, holder: "p", uid: "old"}.String(), []string{prefix + "new", prefix + "old"}},
		"written by an earlier version": {createMarker{at: at, holder: "p"}.String(), []string{prefix + "new"}},
		"unreadable":                    {"garbage", []string{prefix + "new"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ownerTags(obj, tc.marker)); diff != "" {
				t.Errorf("ownerTags (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReauthorizationDue(t *testing.T) {
	const sent, fresh = "sha256:sent", "sha256:fresh"
	cases := map[string]struct {
		mode            elementsv1alpha1.AuthType
		valid           bool
		applied, atHand string
		want            bool
	}{
		"OAuth 2, a fresh code":                      {elementsv1alpha1.AuthTypeOAuth2, false, sent, fresh, true},
		"OAuth 2, the spent code":                    {elementsv1alpha1.AuthTypeOAuth2, false, sent, sent, false},
		"OAuth 2, no code":                           {elementsv1alpha1.AuthTypeOAuth2, false, sent, "", false},
		"Legacy, new tokens, healthy":                {elementsv1alpha1.AuthTypeOAuth2Legacy, true, sent, fresh, true},
		"Legacy, tokens Secret deleted":              {elementsv1alpha1.AuthTypeOAuth2Legacy, true, sent, "", false},
		"API key, new key, lapsed":                   {elementsv1alpha1.AuthTypeAPIKey, false, sent, fresh, true},
		"API key, new key, healthy: a plain update":  {elementsv1alpha1.AuthTypeAPIKey, true, sent, fresh, false},
		"API key, same key, lapsed: a person is due": {elementsv1alpha1.AuthTypeAPIKey, false, sent, sent, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := &session{authHash: tc.atHand, obj: &elementsv1alpha1.HubSpotInstance{
				Spec:   elementsv1alpha1.HubSpotInstanceSpec{Auth: elementsv1alpha1.AuthSpec{Type: tc.mode}},
				Status: elementsv1alpha1.HubSpotInstanceStatus{Valid: tc.valid, AppliedAuthorizationHash: tc.applied}}}
			if got := (&HubSpotInstanceReconciler{}).reauthorizationDue(s); got != tc.want {
				t.Errorf("reauthorizationDue = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestStallHeld(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	type result struct {
		Wait time.Duration
		Held bool
	}
	cases := map[string]struct {
		stalled string
		until   time.Time
		attempt string
		want    result
	}{
		"nothing refused":                    {"", time.Time{}, "a", result{0, false}},
		"the same attempt, before its retry": {"a", now.Add(time.Minute), "a", result{time.Minute, true}},
		"the same attempt, its retry is due": {"a", now, "a", result{0, false}},
		"something it was made from changed": {"a", now.Add(time.Minute), "b", result{0, false}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			wait, held := stallHeld(tc.stalled, tc.until, tc.attempt, now)
			if diff := cmp.Diff(tc.want, result{wait, held}); diff != "" {
				t.Errorf("stallHeld (-want +got):\n%s", diff)
			}
		})
	}
}
