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
