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
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/hubspot-operator/hubspot-operator/internal/oauthstate"
)

func TestPageEscapesEverything(t *testing.T) {
	rec := httptest.NewRecorder()
	writePage(rec, page{Status: http.StatusOK, Title: "<b>t</b>", Message: `"m" & <i>`,
		Detail: "<script>alert(1)</script>", Object: &types.NamespacedName{Namespace: "ns<x", Name: "n>y"}, OfferRetry: true})
	body := rec.Body.String()
	for _, raw := range []string{"<script>", "<b>", "<i>", "ns<x", "n>y"} {
		if strings.Contains(body, raw) {
			t.Errorf("page contains %q unescaped:\n%s", raw, body)
		}
	}
	for _, escaped := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;b&gt;t&lt;/b&gt;", "kubectl get hsi -n ns&lt;x n&gt;y"} {
		if !strings.Contains(body, escaped) {
			t.Errorf("page lacks %q:\n%s", escaped, body)
		}
	}
	wantHeaders := map[string]string{
		"Content-Type":           "text/html; charset=utf-8",
		"Cache-Control":          "no-store",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
	}
	for name, want := range wantHeaders {
		if got := rec.Header().Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none'; style-src 'unsafe-inline'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
}

// The requests refused before any API call need no API server: the handler
// is built without reader or writer, so reaching one would panic (and be
// counted as internal_error).
func TestHandlerRefusesWithoutTouchingTheAPI(t *testing.T) {
	key := []byte(strings.Repeat("k", oauthstate.MinKeySize))
	signer, err := oauthstate.NewSigner(key, 0)
	if err != nil {
		t.Fatal(err)
	}
	other, err := oauthstate.NewSigner([]byte(strings.Repeat("o", oauthstate.MinKeySize)), 0)
	if err != nil {
		t.Fatal(err)
	}
	forged, _, err := other.Issue("ns", "obj", "uid")
	if err != nil {
		t.Fatal(err)
	}
	h := NewHandler(nil, nil, signer)
	tests := []struct {
		name       string
		method     string
		target     string
		wantStatus int
		wantResult string
	}{
		{"POST", http.MethodPost, "/oauth/callback?state=s&code=c", http.StatusMethodNotAllowed, resultBadMethod},
		{"PUT", http.MethodPut, "/oauth/callback", http.StatusMethodNotAllowed, resultBadMethod},
		{"no state", http.MethodGet, "/oauth/callback?code=c", http.StatusBadRequest, resultMissingState},
		{"both", http.MethodGet, "/oauth/callback?state=s&code=c&error=e", http.StatusBadRequest, resultBadRequest},
		{"malformed state", http.MethodGet, "/oauth/callback?state=nodot&code=c", http.StatusBadRequest, resultInvalidState},
		{"state signed with another key", http.MethodGet, "/oauth/callback?code=c&state=" + url.QueryEscape(forged), http.StatusForbidden, resultInvalidState},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := testutil.ToFloat64(callbacksTotal.WithLabelValues(tt.wantResult))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.target, nil))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d; body:\n%s", rec.Code, tt.wantStatus, rec.Body)
			}
			if got := testutil.ToFloat64(callbacksTotal.WithLabelValues(tt.wantResult)) - before; got != 1 {
				t.Fatalf("%s counted %v times, want 1", tt.wantResult, got)
			}
			if tt.wantStatus == http.StatusMethodNotAllowed && rec.Header().Get("Allow") != "GET, HEAD" {
				t.Fatalf("Allow = %q", rec.Header().Get("Allow"))
			}
			if strings.Contains(rec.Body.String(), "kubectl") {
				t.Fatalf("a page for an unauthenticated request names an object:\n%s", rec.Body)
			}
		})
	}
}

type panickingVerifier struct{}

func (panickingVerifier) Verify(string) (oauthstate.Claims, error) { panic("boom") }

func TestHandlerRecoversFromPanics(t *testing.T) {
	before := testutil.ToFloat64(callbacksTotal.WithLabelValues(resultInternalError))
	rec := httptest.NewRecorder()
	NewHandler(nil, nil, panickingVerifier{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/oauth/callback?state=s&code=c", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	if got := testutil.ToFloat64(callbacksTotal.WithLabelValues(resultInternalError)) - before; got != 1 {
		t.Fatalf("internal_error counted %v times, want 1", got)
	}
	if strings.Contains(rec.Body.String(), "boom") {
		t.Fatal("the panic value reached the page")
	}
}

func TestHandlerAnswersOnlyItsPath(t *testing.T) {
	rec := httptest.NewRecorder()
	NewHandler(nil, nil, panickingVerifier{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("status %d, want 404", rec.Code)
	}
}

// API failures are told apart: a passing one invites a reload (nothing was
// used up), a lasting one (RBAC, validation) sends the person to the admins.
func TestHandlerAPIFailures(t *testing.T) {
	signer, err := oauthstate.NewSigner([]byte(strings.Repeat("k", oauthstate.MinKeySize)), 0)
	if err != nil {
		t.Fatal(err)
	}
	state, _, err := signer.Issue("ns", "crm", "uid-1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		err        error
		wantStatus int
	}{
		{"unavailable", apierrors.NewServiceUnavailable("etcd is sad"), http.StatusServiceUnavailable},
		{"timeout", apierrors.NewTimeoutError("slow", 1), http.StatusServiceUnavailable},
		{"forbidden", apierrors.NewForbidden(schema.GroupResource{Resource: "hubspotinstances"}, "crm", errors.New("RBAC")), http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reader := fake.NewClientBuilder().WithInterceptorFuncs(interceptor.Funcs{
				Get: func(context.Context, client.WithWatch, client.ObjectKey, client.Object, ...client.GetOption) error {
					return tt.err
				},
			}).Build()
			before := testutil.ToFloat64(callbacksTotal.WithLabelValues(resultInternalError))
			rec := httptest.NewRecorder()
			NewHandler(reader, reader, signer).ServeHTTP(rec,
				httptest.NewRequest(http.MethodGet, "/oauth/callback?code=c&state="+url.QueryEscape(state), nil))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d", rec.Code, tt.wantStatus)
			}
			if got := testutil.ToFloat64(callbacksTotal.WithLabelValues(resultInternalError)) - before; got != 1 {
				t.Fatalf("internal_error counted %v times, want 1", got)
			}
			if strings.Contains(rec.Body.String(), "etcd") || strings.Contains(rec.Body.String(), "RBAC") {
				t.Fatal("the page shows the internal error")
			}
		})
	}
}
