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
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus/testutil"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/hubspot-operator/hubspot-operator/internal/oauthstate"
)

func TestParseCallbackQuery(t *testing.T) {
	long := strings.Repeat("a", maxValueBytes+1)
	tests := []struct {
		name       string
		rawQuery   string
		want       callbackQuery
		wantResult string // "" when the query must be accepted
	}{
		{name: "code", rawQuery: "code=abc-123&state=s.t",
			want: callbackQuery{State: "s.t", Code: "abc-123"}},
		{name: "error with description", rawQuery: "error=access_denied&error_description=The+user+said+no&state=s",
			want: callbackQuery{State: "s", Error: "access_denied", ErrorDescription: "The user said no"}},
		{name: "error without description", rawQuery: "state=s&error=access_denied",
			want: callbackQuery{State: "s", Error: "access_denied"}},
		{name: "description is put on one line", rawQuery: "state=s&error=x&error_description=" + url.QueryEscape("line one\nline\ttwo\x00"),
			want: callbackQuery{State: "s", Error: "x", ErrorDescription: "line one line two"}},
		{name: "description with invalid UTF-8 is repaired", rawQuery: "state=s&error=x&error_description=%ff%fe",
			want: callbackQuery{State: "s", Error: "x", ErrorDescription: "\uFFFD"}},
		{name: "description alongside a code is ignored", rawQuery: "state=s&code=c&error_description=hm",
			want: callbackQuery{State: "s", Code: "c"}},
		{name: "unknown parameters are ignored", rawQuery: "state=s&code=c&scope=contacts&iss=x",
			want: callbackQuery{State: "s", Code: "c"}},

		{name: "empty query", rawQuery: "", wantResult: resultMissingState},
		{name: "no state", rawQuery: "code=c", wantResult: resultMissingState},
		{name: "empty state", rawQuery: "state=&code=c", wantResult: resultMissingState},
		{name: "both code and error", rawQuery: "state=s&code=c&error=access_denied", wantResult: resultBadRequest},
		{name: "neither code nor error", rawQuery: "state=s", wantResult: resultBadRequest},
		{name: "empty code", rawQuery: "state=s&code=", wantResult: resultBadRequest},
		{name: "empty error", rawQuery: "state=s&error=", wantResult: resultBadRequest},
		{name: "repeated state", rawQuery: "state=s&state=t&code=c", wantResult: resultBadRequest},
		{name: "repeated code", rawQuery: "state=s&code=c&code=d", wantResult: resultBadRequest},
		{name: "code with a control character", rawQuery: "state=s&code=a%0Ab", wantResult: resultBadRequest},
		{name: "code with non-ASCII", rawQuery: "state=s&code=%C3%A9", wantResult: resultBadRequest},
		{name: "error with a quote", rawQuery: "state=s&error=a%22b", wantResult: resultBadRequest},
		{name: "malformed escape", rawQuery: "state=s&code=%zz", wantResult: resultBadRequest},
		{name: "semicolon separator", rawQuery: "state=s;code=c", wantResult: resultBadRequest},
		{name: "oversized code", rawQuery: "state=s&code=" + long, wantResult: resultBadRequest},
		{name: "oversized state", rawQuery: "code=c&state=" + long, wantResult: resultBadRequest},
		{name: "oversized unknown parameter", rawQuery: "state=s&code=c&junk=" + long, wantResult: resultBadRequest},
		{name: "oversized query", rawQuery: "state=s&code=c" + strings.Repeat("&a=b", maxRawQueryBytes/4), wantResult: resultBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ref := parseCallbackQuery(tt.rawQuery)
			if tt.wantResult == "" {
				if ref != nil {
					t.Fatalf("refused with %d %s (%s), want accepted", ref.status, ref.result, ref.reason)
				}
				if got != tt.want {
					t.Fatalf("got %+v, want %+v", got, tt.want)
				}
				return
			}
			if ref == nil {
				t.Fatalf("accepted as %+v, want refused with %s", got, tt.wantResult)
			}
			if ref.result != tt.wantResult || ref.status != http.StatusBadRequest {
				t.Fatalf("refused with %d %s, want 400 %s", ref.status, ref.result, tt.wantResult)
			}
			if strings.Contains(ref.reason, "%") || strings.Contains(ref.reason, "aaaa") {
				t.Fatalf("the reason repeats the request: %q", ref.reason)
			}
		})
	}
}

// FuzzCallbackQuery: whatever arrives, parsing neither panics nor lets
// through something the handler would misread.
func FuzzCallbackQuery(f *testing.F) {
	for _, seed := range []string{
		"", "state=a.b&code=c", "state=a.b&error=access_denied&error_description=no",
		"state=a&state=b&code=c", "code=c&error=e&state=s", "state=s;code=c", "%zz", "state=%00&code=%ff",
		"state=s&error=x&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "state=s&code=" + strings.Repeat("x", 5000),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		q, ref := parseCallbackQuery(rawQuery)
		if ref != nil {
			if ref.status < 400 || ref.status > 499 || ref.result == "" || ref.reason == "" {
				t.Fatalf("malformed refusal %+v", ref)
			}
			return
		}
		if q.State == "" || (q.Code == "") == (q.Error == "") {
			t.Fatalf("accepted %+v: want a state and exactly one of code and error", q)
		}
		if q.Code != "" && q.ErrorDescription != "" {
			t.Fatalf("accepted a description alongside a code: %+v", q)
		}
		for _, v := range []string{q.State, q.Code, q.Error, q.ErrorDescription} {
			if len(v) > maxValueBytes {
				t.Fatalf("accepted an oversized value of %d bytes", len(v))
			}
		}
		if !isVisibleASCII(q.Code, true) || !isErrorCode(q.Error) || !utf8.ValidString(q.ErrorDescription) ||
			strings.ContainsAny(q.ErrorDescription, "\r\n\x00") {
			t.Fatalf("accepted characters it must not: %+v", q)
		}
	})
}

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

func TestTruncateKeepsUTF8(t *testing.T) {
	s := strings.Repeat("é", 400) // 800 bytes
	got := truncate(s, 101)
	if len(got) > 101 || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
		t.Fatalf("truncate gave %d bytes, valid=%v", len(got), utf8.ValidString(got))
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
