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

package simulator_test

import (
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
)

// browserAccept is what Chromium sends for a navigation.
const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8"

var (
	formPattern   = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
	hiddenPattern = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// consentPage GETs a consent URL as a browser does and returns the page.
func consentPage(t *testing.T, sim *simulator.Simulator, target string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.Header.Set("Accept", browserAccept)
	w := httptest.NewRecorder()
	sim.ServeHTTP(w, r)
	return w
}

// submit posts the page's form as a browser does when a button is pressed:
// the hidden fields, then the button's name and value.
func submit(t *testing.T, sim *simulator.Simulator, page string, decision string) *httptest.ResponseRecorder {
	t.Helper()
	action := formPattern.FindStringSubmatch(page)
	if action == nil {
		t.Fatalf("no form on the consent page:\n%s", page)
	}
	form := url.Values{}
	for _, field := range hiddenPattern.FindAllStringSubmatch(page, -1) {
		form.Add(html.UnescapeString(field[1]), html.UnescapeString(field[2]))
	}
	form.Set("decision", decision)
	r := httptest.NewRequest(http.MethodPost, html.UnescapeString(action[1]), strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	sim.ServeHTTP(w, r)
	return w
}

func TestConsentPageForABrowser(t *testing.T) {
	sim := newSimulator(t, simulator.Options{})
	target := "/simulator/hubspot/oauth/authorize?client_id=" + clientID +
		"&redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fx%3D1&scope=contacts%20timeline&state=a%20b%26c%22%3E%3Cscript%3E"

	page := consentPage(t, sim, target)
	if page.Code != http.StatusOK || page.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("a browser should be shown the consent page: %d %s", page.Code, page.Header().Get("Content-Type"))
	}
	if csp := page.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	if page.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q", page.Header().Get("Cache-Control"))
	}
	body := page.Body.String()
	for _, want := range []string{clientID, "<code>contacts</code>", "<code>timeline</code>", "https://app.example",
		`id="allow" name="decision" value="allow">Allow</button>`, `id="deny" name="decision" value="deny">Deny</button>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the consent page lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "<script>") {
		t.Errorf("the state reached the page unescaped:\n%s", body)
	}
	if sim.Count(simulator.OpConsent, http.StatusOK) != 1 {
		t.Errorf("the page is counted as a consent: %d", sim.Count(simulator.OpConsent, http.StatusOK))
	}

	allowed := submit(t, sim, body, "allow")
	if allowed.Code != http.StatusSeeOther {
		t.Fatalf("Allow answered %d, want 303: %s", allowed.Code, allowed.Body)
	}
	location, _ := url.Parse(allowed.Header().Get("Location"))
	if location.Host != "app.example" || location.Path != "/cb" || location.Query().Get("x") != "1" ||
		location.Query().Get("state") != `a b&c"><script>` || location.Query().Get("code") == "" {
		t.Errorf("Allow redirected to %s; want the callback with its own query, a code and the state", location)
	}
	if created := do(t, sim, request{method: "POST", target: "/elements/api-v2/instances", body: oauth2Body(location.Query().Get("code"))}); created.status != 200 {
		t.Errorf("create with the code the page issued: %d %s", created.status, created.raw)
	}

	denied := submit(t, sim, body, "deny")
	query, _ := url.ParseQuery(strings.SplitN(denied.Header().Get("Location"), "?", 2)[1])
	if denied.Code != http.StatusSeeOther || query.Get("error") != "access_denied" || query.Get("error_description") == "" ||
		query.Has("code") || query.Get("state") != `a b&c"><script>` {
		t.Errorf("Deny: %d %v", denied.Code, query)
	}

	// The deny knobs answer at once, for a browser too.
	knob := consentPage(t, sim, target+"&simulate=deny")
	if knob.Code != http.StatusFound || !strings.Contains(knob.Header().Get("Location"), "error=access_denied") {
		t.Errorf("simulate=deny for a browser: %d %s", knob.Code, knob.Header().Get("Location"))
	}
}

func TestConsentPageOnlyForBrowsers(t *testing.T) {
	sim := newSimulator(t, simulator.Options{})
	target := "/simulator/hubspot/oauth/authorize?client_id=c&redirect_uri=https://x/cb&state=s"
	for _, accept := range []string{"", "*/*", "application/json", "text/html;q=0", "text/plain, text/html;q=zero"} {
		r := httptest.NewRequest(http.MethodGet, target, nil)
		if accept != "" {
			r.Header.Set("Accept", accept)
		}
		w := httptest.NewRecorder()
		sim.ServeHTTP(w, r)
		if w.Code != http.StatusFound || !strings.Contains(w.Header().Get("Location"), "code=") {
			t.Errorf("Accept %q: %d %s; want the user who answers at once", accept, w.Code, w.Header().Get("Location"))
		}
	}
	if resp := do(t, sim, request{method: "PUT", anonymous: true, target: target}); resp.status != http.StatusMethodNotAllowed || resp.header.Get("Allow") != "GET, POST" {
		t.Errorf("PUT: %d, Allow %q", resp.status, resp.header.Get("Allow"))
	}
}

func TestConsentFormRefusals(t *testing.T) {
	sim := newSimulator(t, simulator.Options{})
	for name, tc := range map[string]struct {
		body, contentType, message string
		status                     int
	}{
		"no decision":   {body: "client_id=c&redirect_uri=https://x", status: 400, message: "decision"},
		"odd decision":  {body: "client_id=c&redirect_uri=https://x&decision=maybe", status: 400, message: "decision"},
		"no client":     {body: "redirect_uri=https://x&decision=allow", status: 400, message: "client_id"},
		"relative":      {body: "client_id=c&redirect_uri=/cb&decision=allow", status: 400, message: "absolute URL"},
		"bad encoding":  {body: "client_id=%zz", status: 400, message: "form"},
		"JSON":          {body: `{"decision":"allow"}`, contentType: "application/json", status: 415, message: "form-urlencoded"},
		"legacy portal": {body: "client_id=c&redirect_uri=https://x&decision=allow", status: 400, message: "portalId"},
	} {
		t.Run(name, func(t *testing.T) {
			target := "/simulator/hubspot/oauth/authorize"
			if name == "legacy portal" {
				target = "/simulator/hubspot/auth/authenticate"
			}
			contentType := tc.contentType
			if contentType == "" {
				contentType = "application/x-www-form-urlencoded"
			}
			expectError(t, do(t, sim, request{method: "POST", anonymous: true, target: target, body: tc.body, contentType: contentType}), tc.status, tc.message)
		})
	}
	if got := sim.Count(simulator.OpConsent, http.StatusSeeOther); got != 0 {
		t.Errorf("a refused form issued %d answers", got)
	}
}

func TestLegacyConsentPage(t *testing.T) {
	sim := newSimulator(t, simulator.Options{})
	page := consentPage(t, sim, "/simulator/hubspot/auth/authenticate?client_id="+clientID+"&portalId=123456&redirect_uri=http%3A%2F%2Fdemonstrab.ly&scope=contacts-rw%20offline&state=hubspotcrm")
	body := page.Body.String()
	if page.Code != http.StatusOK || !strings.Contains(body, `action="/simulator/hubspot/auth/authenticate"`) || !strings.Contains(body, "<code>123456</code>") {
		t.Fatalf("legacy consent page: %d\n%s", page.Code, body)
	}
	allowed := submit(t, sim, body, "allow")
	location, _ := url.Parse(allowed.Header().Get("Location"))
	q := location.Query()
	if allowed.Code != http.StatusSeeOther || location.Host != "demonstrab.ly" || len(q.Get("access_token")) != 40 ||
		len(q.Get("refresh_token")) != 40 || q.Get("expires_in") != "21600" || q.Get("state") != "hubspotcrm" {
		t.Errorf("legacy Allow: %d %s", allowed.Code, location)
	}
}
