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
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	ce "github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
)

const (
	userSecret         = "user-secret-5f2a9d"
	organizationSecret = "org-secret-9c1e77"
	authorization      = "User " + userSecret + ", Organization " + organizationSecret
	clientID           = "client-id-0042"
	clientSecret       = "client-secret-abcd1234"
	hubSpotAPIKey      = "hubspot-apikey-e6f0b2"
)

func newSimulator(t *testing.T, opts simulator.Options) *simulator.Simulator {
	t.Helper()
	opts.UserSecret, opts.OrganizationSecret = userSecret, organizationSecret
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	return simulator.New(opts)
}

// response is a recorded answer with its JSON body decoded.
type response struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
	list   []map[string]any
}

type request struct {
	method, target, body, contentType string
	anonymous                         bool
	header                            map[string]string
}

// do serves one request in process; every answer must be JSON.
func do(t *testing.T, sim *simulator.Simulator, req request) response {
	t.Helper()
	var body io.Reader
	if req.body != "" {
		body = strings.NewReader(req.body)
	}
	r := httptest.NewRequest(req.method, req.target, body)
	if !req.anonymous {
		r.Header.Set("Authorization", authorization)
	}
	if req.body != "" {
		contentType := req.contentType
		if contentType == "" {
			contentType = "application/json"
		}
		r.Header.Set("Content-Type", contentType)
	}
	for key, value := range req.header {
		r.Header.Set(key, value)
	}
	w := httptest.NewRecorder()
	sim.ServeHTTP(w, r)
	resp := response{status: w.Code, header: w.Header(), raw: w.Body.String()}
	if resp.raw != "" {
		if strings.HasPrefix(resp.raw, "[") {
			if err := json.Unmarshal([]byte(resp.raw), &resp.list); err != nil {
				t.Fatalf("%s %s answered a non-JSON list: %q", req.method, req.target, resp.raw)
			}
		} else if err := json.Unmarshal([]byte(resp.raw), &resp.body); err != nil {
			t.Fatalf("%s %s answered non-JSON: %q", req.method, req.target, resp.raw)
		}
	}
	return resp
}

func expectError(t *testing.T, resp response, status int, message string) {
	t.Helper()
	if resp.status != status {
		t.Fatalf("status %d, want %d (%s)", resp.status, status, resp.raw)
	}
	if got, _ := resp.body["message"].(string); !strings.Contains(got, message) {
		t.Errorf("message %q does not say %q", got, message)
	}
	if id, _ := resp.body["requestId"].(string); id == "" {
		t.Errorf("error body without a requestId: %s", resp.raw)
	}
	if resp.header.Get("Content-Type") != "application/json" {
		t.Errorf("error Content-Type = %q", resp.header.Get("Content-Type"))
	}
}

func apiKeyBody(name string) string {
	return fmt.Sprintf(`{"element":{"key":"hubspotcrm"},"name":%q,"tags":["t1"],"configuration":{"authentication.type":"apiKey","hubspot.authorization.apikey":%q}}`, name, hubSpotAPIKey)
}

func oauth2Body(code string) string {
	return fmt.Sprintf(`{"element":{"key":"hubspotcrm"},"name":"crm","providerData":{"code":%q},"configuration":{"oauth.api.key":%q,"oauth.api.secret":%q,"oauth.callback.url":"https://app.example/cb"}}`, code, clientID, clientSecret)
}

func createAPIKey(t *testing.T, sim *simulator.Simulator, name string) int64 {
	t.Helper()
	resp := do(t, sim, request{method: http.MethodPost, target: "/elements/api-v2/instances", body: apiKeyBody(name)})
	if resp.status != http.StatusOK {
		t.Fatalf("create: %d %s", resp.status, resp.raw)
	}
	return int64(resp.body["id"].(float64))
}

func TestRoutingErrors(t *testing.T) {
	sim := newSimulator(t, simulator.Options{})
	cases := map[string]struct {
		req     request
		status  int
		message string
		allow   string
	}{
		"unknown route":       {req: request{method: "GET", target: "/elements/api-v2/hubs/crm/contacts"}, status: 404, message: "No resource found"},
		"outside the API":     {req: request{method: "GET", target: "/"}, status: 404, message: "No resource found"},
		"wrong method, list":  {req: request{method: "DELETE", target: "/elements/api-v2/instances"}, status: 405, message: "not allowed", allow: "GET, POST"},
		"wrong method, one":   {req: request{method: "POST", target: "/elements/api-v2/instances/1"}, status: 405, message: "not allowed", allow: "GET, PUT, PATCH, DELETE"},
		"wrong method, oauth": {req: request{method: "POST", target: "/elements/api-v2/elements/hubspotcrm/oauth/url"}, status: 405, message: "not allowed", allow: "GET"},
		"no credentials":      {req: request{method: "GET", target: "/elements/api-v2/instances", anonymous: true}, status: 401, message: "Invalid Organization or User secret"},
		"wrong user": {req: request{method: "GET", target: "/elements/api-v2/instances", anonymous: true,
			header: map[string]string{"Authorization": "User nope, Organization " + organizationSecret}}, status: 401, message: "Invalid Organization or User secret"},
		"unknown id":           {req: request{method: "GET", target: "/elements/api-v2/instances/77"}, status: 404, message: "No instance found with ID 77"},
		"non-numeric id":       {req: request{method: "DELETE", target: "/elements/api-v2/instances/abc"}, status: 404, message: "No instance found with ID abc"},
		"unknown element":      {req: request{method: "POST", target: "/elements/api-v2/elements/hubspot/instances", body: apiKeyBody("x")}, status: 404, message: "No element found with key hubspot"},
		"unknown body element": {req: request{method: "POST", target: "/elements/api-v2/instances", body: strings.Replace(apiKeyBody("x"), "hubspotcrm", "sfdc", 1)}, status: 404, message: "No element found with key sfdc"},
		"no element":           {req: request{method: "POST", target: "/elements/api-v2/instances", body: `{"name":"x","configuration":{"authentication.type":"apiKey","hubspot.authorization.apikey":"k"}}`}, status: 400, message: "element.key"},
		"not JSON":             {req: request{method: "POST", target: "/elements/api-v2/instances", body: "name=x"}, status: 400, message: "Invalid JSON in request body"},
		"trailing garbage":     {req: request{method: "POST", target: "/elements/api-v2/instances", body: apiKeyBody("x") + "}"}, status: 400, message: "Invalid JSON in request body"},
		"wrong media type":     {req: request{method: "POST", target: "/elements/api-v2/instances", body: apiKeyBody("x"), contentType: "text/plain"}, status: 415, message: "application/json"},
		"too large":            {req: request{method: "POST", target: "/elements/api-v2/instances", body: `{"name":"` + strings.Repeat("x", 1<<20) + `"}`}, status: 413, message: "larger than"},
		"list value":           {req: request{method: "POST", target: "/elements/api-v2/instances", body: `{"element":{"key":"hubspotcrm"},"name":"x","configuration":{"create.bulk.properties":["true"]}}`}, status: 400, message: "configuration value for create.bulk.properties must be a string, a boolean, a number or an object"},
		"bad page size":        {req: request{method: "GET", target: "/elements/api-v2/instances?pageSize=0"}, status: 400, message: "pageSize"},
		"bad page token":       {req: request{method: "GET", target: "/elements/api-v2/instances?nextPage=zzz"}, status: 400, message: "nextPage"},
		"patch empty name":     {req: request{method: "PATCH", target: "/elements/api-v2/instances/1", body: `{"name":" "}`}, status: 400, message: "name must not be empty"},
		"unknown knob":         {req: request{method: "GET", target: "/simulator/nothing"}, status: 404, message: "No simulator knob"},
		"oauth url params":     {req: request{method: "GET", target: "/elements/api-v2/elements/hubspotcrm/oauth/url?apiSecret=s", anonymous: true}, status: 400, message: "apiKey, callbackUrl"},
		"consent redirect":     {req: request{method: "GET", target: "/simulator/hubspot/oauth/authorize?client_id=c&redirect_uri=relative/path"}, status: 400, message: "absolute URL"},
		"consent client":       {req: request{method: "GET", target: "/simulator/hubspot/oauth/authorize?redirect_uri=https://x"}, status: 400, message: "client_id"},
		"legacy portal":        {req: request{method: "GET", target: "/simulator/hubspot/auth/authenticate?client_id=c&redirect_uri=https://x"}, status: 400, message: "portalId"},
	}
	createAPIKey(t, sim, "existing") // id 1, for the PATCH case
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resp := do(t, sim, tc.req)
			expectError(t, resp, tc.status, tc.message)
			if tc.allow != "" && resp.header.Get("Allow") != tc.allow {
				t.Errorf("Allow = %q, want %q", resp.header.Get("Allow"), tc.allow)
			}
		})
	}
	if n := sim.Count(simulator.OpUnknown, 405); n != 3 {
		t.Errorf("counted %d 405s under %q, want 3", n, simulator.OpUnknown)
	}
}

func TestAuthorizationHeaderForms(t *testing.T) {
	sim := newSimulator(t, simulator.Options{})
	for _, header := range []string{
		authorization,
		"Organization " + organizationSecret + ", User " + userSecret,
		authorization + ", Element some-element-token",
		"User  " + userSecret + " ,Organization " + organizationSecret,
	} {
		resp := do(t, sim, request{method: "GET", target: "/elements/api-v2/instances", anonymous: true, header: map[string]string{"Authorization": header}})
		if resp.status != 200 {
			t.Errorf("header form %q refused: %d", strings.ReplaceAll(strings.ReplaceAll(header, userSecret, "U"), organizationSecret, "O"), resp.status)
		}
	}
	unconfigured := simulator.New(simulator.Options{})
	if resp := do(t, unconfigured, request{method: "GET", target: "/elements/api-v2/instances", anonymous: true,
		header: map[string]string{"Authorization": "User , Organization "}}); resp.status != 401 {
		t.Errorf("a simulator without secrets must refuse everyone, got %d", resp.status)
	}
}

func TestCreateByElementIDAndPath(t *testing.T) {
	sim := newSimulator(t, simulator.Options{})
	for _, target := range []string{"/elements/api-v2/elements/hubspotcrm/instances", "/elements/api-v2/elements/168/instances", "/elements/api-v2/instances/"} {
		resp := do(t, sim, request{method: "POST", target: target, body: `{"name":"x","configuration":{"authentication.type":"apiKey","hubspot.authorization.apikey":"k"}}`})
		if target == "/elements/api-v2/instances/" {
			// Without a path element the body must name it.
			expectError(t, resp, 400, "element.key")
			continue
		}
		if resp.status != 200 {
			t.Errorf("POST %s: %d %s", target, resp.status, resp.raw)
		}
	}
	resp := do(t, sim, request{method: "POST", target: "/elements/api-v2/instances", body: `{"element":{"id":168},"name":"x","configuration":{"authentication.type":"apiKey","hubspot.authorization.apikey":"k"}}`})
	if resp.status != 200 || resp.body["element"].(map[string]any)["id"].(float64) != 168 {
		t.Errorf("element by id: %d %s", resp.status, resp.raw)
	}
}

func TestPagingHeaders(t *testing.T) {
	sim := newSimulator(t, simulator.Options{})
	for i := range 5 {
		createAPIKey(t, sim, fmt.Sprint("crm-", i))
	}
	if err := sim.Remove(3); err != nil {
		t.Fatal(err)
	}
	var ids []float64
	target := "/elements/api-v2/instances?pageSize=2"
	for pages := 0; ; pages++ {
		resp := do(t, sim, request{method: "GET", target: target})
		if resp.status != 200 || resp.header.Get("elements-total-count") != "4" {
			t.Fatalf("page %d: %d, total %q", pages, resp.status, resp.header.Get("elements-total-count"))
		}
		for _, instance := range resp.list {
			ids = append(ids, instance["id"].(float64))
		}
		next := resp.header.Get("elements-next-page-token")
		if next == "" {
			break
		}
		target = "/elements/api-v2/instances?pageSize=2&nextPage=" + url.QueryEscape(next)
	}
	if fmt.Sprint(ids) != "[1 2 4 5]" {
		t.Errorf("paged ids %v, want [1 2 4 5]", ids)
	}
	if resp := do(t, sim, request{method: "GET", target: "/elements/api-v2/instances?pageSize=500"}); len(resp.list) != 4 || resp.header.Get("elements-next-page-token") != "" {
		t.Errorf("a pageSize over 200 is capped, not refused: %d", resp.status)
	}
	empty := newSimulator(t, simulator.Options{})
	if resp := do(t, empty, request{method: "GET", target: "/elements/api-v2/instances"}); resp.raw != "[]" {
		t.Errorf("an empty list reads %q, want []", resp.raw)
	}
}

func TestOAuthURLAndConsent(t *testing.T) {
	sim := newSimulator(t, simulator.Options{BaseURL: "https://sim.example:8443/"})
	resp := do(t, sim, request{method: "GET", anonymous: true,
		target: "/elements/api-v2/elements/hubspotcrm/oauth/url?apiKey=" + clientID + "&apiSecret=" + clientSecret + "&scope=contacts%20%20timeline&callbackUrl=https%3A%2F%2Fapp.example%2Fcb%3Fx%3D1&state=a%20b%26c"})
	if resp.status != 200 {
		t.Fatalf("oauth url: %d %s", resp.status, resp.raw)
	}
	oauthURL := resp.body["oauthUrl"].(string)
	want := "https://sim.example:8443/simulator/hubspot/oauth/authorize?client_id=" + clientID + "&redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fx%3D1&scope=contacts%20timeline&state=a%20b%26c"
	if oauthURL != want {
		t.Errorf("oauthUrl\n got %s\nwant %s", oauthURL, want)
	}
	if !strings.Contains(resp.raw, "&redirect_uri") {
		t.Error("the oauthUrl should be written with a plain &, as the platform does")
	}

	consentTarget := strings.TrimPrefix(oauthURL, "https://sim.example:8443")
	redirect := do(t, sim, request{method: "GET", target: consentTarget, anonymous: true})
	if redirect.status != http.StatusFound {
		t.Fatalf("consent: %d", redirect.status)
	}
	location, _ := url.Parse(redirect.header.Get("Location"))
	if location.Host != "app.example" || location.Query().Get("x") != "1" || location.Query().Get("state") != "a b&c" || location.Query().Get("code") == "" {
		t.Errorf("consent redirect = %s; want the callback with its own query, the code and the state", location)
	}
	if created := do(t, sim, request{method: "POST", target: "/elements/api-v2/instances", body: oauth2Body(location.Query().Get("code"))}); created.status != 200 {
		t.Errorf("create with the consent's code: %d %s", created.status, created.raw)
	}

	for _, knob := range []string{"&simulate=deny", "&error=access_denied"} {
		denied := do(t, sim, request{method: "GET", target: consentTarget + knob, anonymous: true})
		query, _ := url.ParseQuery(strings.SplitN(denied.header.Get("Location"), "?", 2)[1])
		if query.Get("error") != "access_denied" || query.Get("error_description") == "" || query.Has("code") || query.Get("state") != "a b&c" {
			t.Errorf("deny via %s: %v", knob, query)
		}
	}

	derived := newSimulator(t, simulator.Options{})
	resp = do(t, derived, request{method: "GET", anonymous: true, target: "http://127.0.0.1:8090/elements/api-v2/elements/hubspotcrm/oauth/url?apiKey=c&apiSecret=s&callbackUrl=https://x&scope="})
	if got := resp.body["oauthUrl"].(string); !strings.HasPrefix(got, "http://127.0.0.1:8090/simulator/hubspot/oauth/authorize?") ||
		!strings.Contains(got, "&scope=&") || !strings.HasSuffix(got, "&state=hubspotcrm") {
		t.Errorf("oauthUrl from the request host, empty scope kept, state defaulted: %s", got)
	}
}

func TestLegacyConsent(t *testing.T) {
	sim := newSimulator(t, simulator.Options{})
	resp := do(t, sim, request{method: "GET", anonymous: true,
		target: "http://sim/elements/api-v2/elements/168/oauth/url?apiKey=" + clientID + "&apiSecret=123456&scope=contacts-rw%20offline&callbackUrl=http://demonstrab.ly"})
	want := "http://sim/simulator/hubspot/auth/authenticate?client_id=" + clientID + "&portalId=123456&redirect_uri=http%3A%2F%2Fdemonstrab.ly&scope=contacts-rw%20offline&state=hubspotcrm"
	if got := resp.body["oauthUrl"]; got != want {
		t.Errorf("legacy oauthUrl\n got %s\nwant %s", got, want)
	}
	redirect := do(t, sim, request{method: "GET", anonymous: true, target: strings.TrimPrefix(want, "http://sim")})
	location, _ := url.Parse(redirect.header.Get("Location"))
	q := location.Query()
	if location.Host != "demonstrab.ly" || len(q.Get("access_token")) != 40 || len(q.Get("refresh_token")) != 40 || q.Get("expires_in") != "21600" || q.Get("state") != "hubspotcrm" {
		t.Errorf("legacy callback = %s", location)
	}
}

func TestCodeExpiryFollowsNow(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sim := newSimulator(t, simulator.Options{CodeTTL: time.Minute, Now: func() time.Time { return now }})
	fresh, stale := sim.IssueCode(clientID), sim.IssueCode(clientID)
	now = now.Add(59 * time.Second)
	if resp := do(t, sim, request{method: "POST", target: "/elements/api-v2/instances", body: oauth2Body(fresh)}); resp.status != 200 {
		t.Fatalf("a code within its TTL: %d %s", resp.status, resp.raw)
	}
	now = now.Add(time.Second)
	resp := do(t, sim, request{method: "POST", target: "/elements/api-v2/instances", body: oauth2Body(stale)})
	expectError(t, resp, 400, "OAuth code")
	if !strings.Contains(resp.body["providerMessage"].(string), "expired") {
		t.Errorf("providerMessage = %v", resp.body["providerMessage"])
	}
}

func TestReplaceRules(t *testing.T) {
	sim := newSimulator(t, simulator.Options{})
	created := do(t, sim, request{method: "POST", target: "/elements/api-v2/instances", body: oauth2Body(sim.IssueCode(clientID))})
	id := int64(created.body["id"].(float64))
	target := fmt.Sprintf("/elements/api-v2/instances/%d", id)
	if err := sim.Invalidate(id); err != nil {
		t.Fatal(err)
	}

	masked := `{"name":"renamed","configuration":{"oauth.api.key":"` + clientID + `","oauth.api.secret":"********","oauth.callback.url":"https://app.example/cb2"}}`
	resp := do(t, sim, request{method: "PUT", target: target, body: masked})
	if resp.status != 200 || resp.body["valid"] != false {
		t.Fatalf("plain PUT: %d %s; it must not restore validity", resp.status, resp.raw)
	}
	stored, _ := sim.Instance(id)
	if stored.Configuration[ce.ConfigOAuthAPISecret] != clientSecret || stored.Configuration[ce.ConfigOAuthCallbackURL] != "https://app.example/cb2" || stored.Name != "renamed" {
		t.Errorf("after a PUT with a masked secret: %v", stored)
	}
	if len(stored.Tags) != 0 {
		t.Errorf("a PUT without tags replaces them with none, got %q", stored.Tags)
	}

	resp = do(t, sim, request{method: "PUT", target: target + "?reAuthenticate=true", body: masked})
	expectError(t, resp, 400, "missing required configuration: providerData.code")
	resp = do(t, sim, request{method: "PUT", target: target + "?reAuthenticate=true", body: oauth2Body(sim.IssueCode(clientID))})
	if resp.status != 200 || resp.body["valid"] != true {
		t.Errorf("re-authentication: %d %s", resp.status, resp.raw)
	}
	if sim.Count(simulator.OpReauthorize, 200) != 1 || sim.Count(simulator.OpUpdate, 200) != 1 {
		t.Errorf("counts = %v", sim.Counts())
	}

	toAPIKey := `{"name":"k","configuration":{"authentication.type":"apiKey","hubspot.authorization.apikey":"k"}}`
	if resp := do(t, sim, request{method: "PUT", target: target, body: toAPIKey}); resp.status != 200 {
		t.Errorf("switching to an API key needs no consent: %d %s", resp.status, resp.raw)
	}
	masked = `{"name":"k","configuration":{"authentication.type":"apiKey","hubspot.authorization.apikey":"********"}}`
	if resp := do(t, sim, request{method: "PUT", target: target, body: masked}); resp.status != 200 {
		t.Errorf("a masked API key sent back: %d %s", resp.status, resp.raw)
	}
	if stored, _ := sim.Instance(id); stored.Configuration[ce.ConfigHubSpotAPIKey] != "k" {
		t.Errorf("the masked API key replaced the stored one: %q", stored.Configuration[ce.ConfigHubSpotAPIKey])
	}
}

func TestPatchTagsAbsentVersusEmpty(t *testing.T) {
	sim := newSimulator(t, simulator.Options{})
	id := createAPIKey(t, sim, "crm")
	target := fmt.Sprintf("/elements/api-v2/instances/%d", id)
	if resp := do(t, sim, request{method: "PATCH", target: target, body: `{"name":"n2"}`}); resp.status != 200 || fmt.Sprint(resp.body["tags"]) != "[t1]" {
		t.Errorf("a patch without tags keeps them: %s", resp.raw)
	}
	if resp := do(t, sim, request{method: "PATCH", target: target, body: `{"tags":[]}`}); resp.status != 200 || fmt.Sprint(resp.body["tags"]) != "[]" {
		t.Errorf("tags [] clears them: %s", resp.raw)
	}
}

func TestDeleteAnswersEmpty200(t *testing.T) {
	sim := newSimulator(t, simulator.Options{})
	id := createAPIKey(t, sim, "crm")
	resp := do(t, sim, request{method: "DELETE", target: fmt.Sprintf("/elements/api-v2/instances/%d", id)})
	if resp.status != 200 || resp.raw != "" {
		t.Errorf("delete: %d %q", resp.status, resp.raw)
	}
	if _, ok := sim.Instance(id); ok || len(sim.Instances()) != 0 {
		t.Error("the instance is still there")
	}
}

func TestHTTPKnobs(t *testing.T) {
	sim := newSimulator(t, simulator.Options{Seed: 99})
	id := createAPIKey(t, sim, "crm")
	knob := func(method, path, body string) response {
		t.Helper()
		return do(t, sim, request{method: method, target: "/simulator" + path, body: body, anonymous: true})
	}

	if resp := knob("GET", "/instances", ""); len(resp.list) != 1 || resp.list[0]["configuration"].(map[string]any)[ce.ConfigHubSpotAPIKey] != hubSpotAPIKey {
		t.Errorf("GET /simulator/instances shows secrets in clear: %s", resp.raw)
	}
	if resp := knob("POST", "/instances/1/invalidate", ""); resp.body["valid"] != false {
		t.Errorf("invalidate: %s", resp.raw)
	}
	if resp := knob("POST", "/instances/1/disable", ""); resp.body["disabled"] != true {
		t.Errorf("disable: %s", resp.raw)
	}
	if resp := knob("POST", "/instances/1/enable", ""); resp.body["disabled"] != false {
		t.Errorf("enable: %s", resp.raw)
	}
	expectError(t, knob("POST", "/instances/9/invalidate", ""), 404, "No instance found")
	expectError(t, knob("POST", "/instances/1/explode", ""), 404, "No simulator knob")

	resp := knob("PUT", "/faults/get", `{"failNext":2,"status":503,"latency":"5ms","hangFor":250,"retryAfter":"2s"}`)
	if resp.status != 200 {
		t.Fatalf("PUT fault: %d %s", resp.status, resp.raw)
	}
	if f := sim.Faults()[simulator.OpGet]; f.FailNext != 2 || f.Status != 503 || f.Latency != 5*time.Millisecond ||
		f.HangFor != 250*time.Millisecond || f.RetryAfter != 2*time.Second {
		t.Errorf("fault from JSON = %+v", f)
	}
	if got := fmt.Sprint(knob("GET", "/faults", "").body["get"]); !strings.Contains(got, "latency:5ms") || !strings.Contains(got, "hangFor:250ms") {
		t.Errorf("GET /simulator/faults = %s", got)
	}
	for range 2 {
		expectError(t, do(t, sim, request{method: "GET", target: "/elements/api-v2/instances/1"}), 503, "simulated failure")
	}
	if r := do(t, sim, request{method: "GET", target: "/elements/api-v2/instances/1"}); r.status != 200 {
		t.Errorf("after FailNext ran out: %d", r.status)
	}
	if f, ok := sim.Faults()[simulator.OpGet]; !ok || f.FailNext != 0 || f.Latency != 5*time.Millisecond {
		t.Errorf("a spent FailNext must leave the latency in force: %+v", f)
	}
	sim.SetFault(simulator.OpGet, simulator.Fault{FailNext: 1, Status: 500})
	do(t, sim, request{method: "GET", target: "/elements/api-v2/instances/1"})
	if _, ok := sim.Faults()[simulator.OpGet]; ok {
		t.Error("a spent fault with nothing else set should be gone")
	}
	for body, want := range map[string]string{
		`{"errorRate":2}`:    "errorRate must be between 0 and 1",
		`{"latency":"soon"}`: "invalid duration",
		`{"status":42}`:      "status must be between 200 and 599",
		`{"hangFor":true}`:   "a duration must be",
		`{"failNext":-1}`:    "failNext must not be negative",
		`not json`:           "Invalid fault",
	} {
		expectError(t, knob("PUT", "/faults/get", body), 400, want)
	}
	expectError(t, knob("PUT", "/faults/teleport", `{}`), 404, "Unknown operation")

	knob("PUT", "/faults/*", `{"failNext":1,"status":500}`)
	if len(sim.Faults()) != len(simulator.Operations) {
		t.Errorf("a fault on * should reach every operation: %v", sim.Faults())
	}
	knob("DELETE", "/faults/get", "")
	if _, ok := sim.Faults()[simulator.OpGet]; ok {
		t.Error("DELETE /simulator/faults/get left the fault")
	}
	knob("DELETE", "/faults", "")
	if len(sim.Faults()) != 0 {
		t.Error("DELETE /simulator/faults left faults")
	}

	counts := knob("GET", "/counts", "")
	if fmt.Sprint(counts.body["get"]) != "map[200:1 500:1 503:2]" || fmt.Sprint(counts.body["create"]) != "map[200:1]" {
		t.Errorf("counts = %s", counts.raw)
	}
	knob("POST", "/counts/reset", "")
	if len(sim.Counts()) != 0 {
		t.Errorf("counts after reset = %v", sim.Counts())
	}
	if resp := knob("GET", "/seed", ""); resp.body["seed"] != float64(99) {
		t.Errorf("seed = %s", resp.raw)
	}
	code := knob("POST", "/codes?client_id="+clientID, "").body["code"].(string)
	if resp := do(t, sim, request{method: "POST", target: "/elements/api-v2/instances", body: oauth2Body(code)}); resp.status != 200 {
		t.Errorf("a code minted over HTTP: %d %s", resp.status, resp.raw)
	}
	if resp := knob("DELETE", fmt.Sprintf("/instances/%d", id), ""); resp.status != 200 {
		t.Errorf("DELETE /simulator/instances/%d: %d", id, resp.status)
	}
	if _, ok := sim.Instance(id); ok {
		t.Error("the knob did not remove the instance")
	}
	if sim.Total("") != 0 {
		t.Error("knobs must not be counted")
	}
}

func TestGoKnobs(t *testing.T) {
	sim := newSimulator(t, simulator.Options{})
	for _, err := range []error{sim.Invalidate(5), sim.SetDisabled(5, true), sim.Remove(5)} {
		if err == nil || !strings.Contains(err.Error(), "no such instance") {
			t.Errorf("a knob on an unknown id: %v", err)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("SetFault on an unknown operation should panic")
		}
	}()
	sim.SetFault("creat", simulator.Fault{ErrorRate: 1})
}

func TestHangAndLatency(t *testing.T) {
	sim := newSimulator(t, simulator.Options{})
	server := httptest.NewServer(sim)
	defer server.Close()

	sim.SetFault(simulator.OpList, simulator.Fault{HangRate: 1, HangFor: 100 * time.Millisecond})
	started := time.Now()
	resp := get(t, server.URL+"/elements/api-v2/instances")
	if resp.StatusCode != http.StatusGatewayTimeout || time.Since(started) < 100*time.Millisecond {
		t.Errorf("a hang that runs out answers 504 after HangFor: %d after %v", resp.StatusCode, time.Since(started))
	}

	sim.SetFault(simulator.OpList, simulator.Fault{Latency: 60 * time.Millisecond})
	started = time.Now()
	if resp := get(t, server.URL+"/elements/api-v2/instances"); resp.StatusCode != 200 || time.Since(started) < 60*time.Millisecond {
		t.Errorf("latency: %d after %v", resp.StatusCode, time.Since(started))
	}
	if sim.Count(simulator.OpList, 504) != 1 || sim.Count(simulator.OpList, 200) != 1 {
		t.Errorf("counts = %v", sim.Counts())
	}
}

func get(t *testing.T, target string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, target, nil)
	req.Header.Set("Authorization", authorization)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp
}

func TestSeedRepeats(t *testing.T) {
	run := func(seed int64) []string {
		sim := newSimulator(t, simulator.Options{Seed: seed})
		sim.SetFault(simulator.OpGet, simulator.Fault{ErrorRate: 0.5})
		var trace []string
		for i := range 5 {
			created := do(t, sim, request{method: "POST", target: "/elements/api-v2/instances", body: apiKeyBody(fmt.Sprint(i))})
			trace = append(trace, created.body["token"].(string), sim.IssueCode("c"))
			trace = append(trace, fmt.Sprint(do(t, sim, request{method: "GET", target: "/elements/api-v2/instances/1"}).status))
		}
		return trace
	}
	a, b, c := run(7), run(7), run(8)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Error("the same seed gave different tokens, codes or faults")
	}
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Error("different seeds gave the same run")
	}
	if simulator.New(simulator.Options{}).Seed() == 0 {
		t.Error("a time-based seed must be exposed")
	}
}

func TestConcurrentUse(t *testing.T) {
	sim := newSimulator(t, simulator.Options{})
	sim.SetFault(simulator.OpGet, simulator.Fault{ErrorRate: 0.3, RateLimitRate: 0.1})
	var wg sync.WaitGroup
	tokens := make(chan string, 100)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := httptest.NewRecorder()
			r := httptest.NewRequest("POST", "/elements/api-v2/instances", strings.NewReader(apiKeyBody(fmt.Sprint(i))))
			r.Header.Set("Authorization", authorization)
			r.Header.Set("Content-Type", "application/json")
			sim.ServeHTTP(w, r)
			var body struct{ Token string }
			_ = json.Unmarshal(w.Body.Bytes(), &body)
			tokens <- body.Token
			w = httptest.NewRecorder()
			r = httptest.NewRequest("GET", "/elements/api-v2/instances/1", nil)
			r.Header.Set("Authorization", authorization)
			sim.ServeHTTP(w, r)
			_ = sim.Counts()
			_ = sim.Instances()
		}()
	}
	wg.Wait()
	close(tokens)
	seen := map[string]bool{}
	for token := range tokens {
		if token == "" || seen[token] {
			t.Errorf("token %q empty or repeated", token)
		}
		seen[token] = true
	}
	instances := sim.Instances()
	if len(instances) != 50 || instances[0].ID != 1 || instances[49].ID != 50 {
		t.Errorf("got %d instances, want ids 1..50 in order", len(instances))
	}
	if sim.Total(simulator.OpGet) != 50 || sim.Count(simulator.OpCreate, 200) != 50 {
		t.Errorf("counts = %v", sim.Counts())
	}
}

func TestRequestLogIsRedacted(t *testing.T) {
	var buf bytes.Buffer
	sim := newSimulator(t, simulator.Options{Logger: log.New(&buf, "", 0)})
	code := sim.IssueCode(clientID)
	do(t, sim, request{method: "GET", anonymous: true,
		target: "/elements/api-v2/elements/hubspotcrm/oauth/url?apiKey=" + clientID + "&apiSecret=" + clientSecret + "&callbackUrl=https://x"})
	do(t, sim, request{method: "POST", target: "/elements/api-v2/instances", body: oauth2Body(code)})
	do(t, sim, request{method: "GET", anonymous: true, target: "/simulator/hubspot/oauth/authorize?client_id=c&redirect_uri=https://x&code=" + code})
	do(t, sim, request{method: "GET", target: "/elements/api-v2/instances", anonymous: true, header: map[string]string{"Authorization": authorization + "x"}})
	logged := buf.String()
	for _, secret := range []string{userSecret, organizationSecret, clientSecret, code} {
		if strings.Contains(logged, secret) {
			t.Errorf("the log shows a secret:\n%s", logged)
		}
	}
	if strings.Count(logged, "\n") != 4 || !strings.Contains(logged, "apiSecret=REDACTED") || !strings.Contains(logged, "op=list status=401") {
		t.Errorf("log:\n%s", logged)
	}
}

func TestSecretsMaskedOnEveryRead(t *testing.T) {
	sim := newSimulator(t, simulator.Options{})
	body := `{"element":{"key":"hubspotcrm"},"name":"crm","configuration":{"authentication.type":"apiKey","hubspot.authorization.apikey":"` + hubSpotAPIKey +
		`","event.notification.enabled":"true","event.vendor.type":"webhook","event.notification.callback.url":"https://e.example","event.notification.signature.key":"sig-key-77"}}`
	reads := map[string]request{
		"create": {method: "POST", target: "/elements/api-v2/instances", body: body},
		"get":    {method: "GET", target: "/elements/api-v2/instances/1"},
		"list":   {method: "GET", target: "/elements/api-v2/instances"},
		"update": {method: "PUT", target: "/elements/api-v2/instances/1", body: body},
		"patch":  {method: "PATCH", target: "/elements/api-v2/instances/1", body: `{"tags":["x"]}`},
	}
	for _, name := range []string{"create", "get", "list", "update", "patch"} {
		resp := do(t, sim, reads[name])
		if resp.status != 200 {
			t.Fatalf("%s: %d %s", name, resp.status, resp.raw)
		}
		if strings.Contains(resp.raw, hubSpotAPIKey) || strings.Contains(resp.raw, "sig-key-77") || strings.Count(resp.raw, ce.MaskedValue) != 2 {
			t.Errorf("%s shows a secret or masks the wrong values: %s", name, resp.raw)
		}
		if !strings.Contains(resp.raw, `"eventsEnabled":true`) || !strings.Contains(resp.raw, "https://e.example") {
			t.Errorf("%s hides what is not secret: %s", name, resp.raw)
		}
	}
}

const ownerTag = "hubspot-operator/owner=default.crm"

// postCreate sends one create through a real connection, as the operator
// would; the body carries ownerTag.
func postCreate(client *http.Client, serverURL, name string) (*http.Response, string, error) {
	body := strings.Replace(apiKeyBody(name), `"t1"`, fmt.Sprintf("%q", ownerTag), 1)
	req, _ := http.NewRequest(http.MethodPost, serverURL+simulator.APIPrefix+"/instances", strings.NewReader(body))
	req.Header.Set("Authorization", authorization)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	return resp, string(raw), err
}

// listOwned lists instances over HTTP and counts those carrying ownerTag.
func listOwned(t *testing.T, serverURL string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, serverURL+simulator.APIPrefix+"/instances", nil)
	req.Header.Set("Authorization", authorization)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var instances []struct{ Tags []string }
	if err := json.NewDecoder(resp.Body).Decode(&instances); err != nil || resp.StatusCode != 200 {
		t.Fatalf("list: %d %v", resp.StatusCode, err)
	}
	owned := 0
	for _, instance := range instances {
		for _, tag := range instance.Tags {
			if tag == ownerTag {
				owned++
			}
		}
	}
	return owned
}

// eventually polls cond for up to 10s: the machine may be busy.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
	}
}

func isTimeout(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout()
}

func TestCommitLate(t *testing.T) {
	const clientTimeout = 200 * time.Millisecond
	cases := map[string]struct {
		fault         simulator.Fault
		clientTimeout time.Duration
		// seenAtOnce: the instance is listed as soon as the client's call returns.
		seenAtOnce bool
		check      func(t *testing.T, resp *http.Response, err error, took time.Duration)
	}{
		"committed, answered after the client's timeout": {
			fault:         simulator.Fault{CommitLateNext: 1, AnswerAfter: 500 * time.Millisecond},
			clientTimeout: clientTimeout,
			seenAtOnce:    true,
			check: func(t *testing.T, _ *http.Response, err error, _ time.Duration) {
				if !isTimeout(err) {
					t.Errorf("the client should time out, got %v", err)
				}
			},
		},
		"committed after a delay, the client long gone": {
			fault:         simulator.Fault{CommitLateNext: 1, CommitDelay: time.Second, AnswerAfter: 500 * time.Millisecond},
			clientTimeout: clientTimeout,
			seenAtOnce:    false,
			check: func(t *testing.T, _ *http.Response, err error, _ time.Duration) {
				if !isTimeout(err) {
					t.Errorf("the client should time out, got %v", err)
				}
			},
		},
		"committed, answered late within the client's patience": {
			fault:         simulator.Fault{CommitLateRate: 1, AnswerAfter: 300 * time.Millisecond},
			clientTimeout: 10 * time.Second,
			seenAtOnce:    true,
			check: func(t *testing.T, resp *http.Response, err error, took time.Duration) {
				if err != nil || resp.StatusCode != 200 || took < 300*time.Millisecond {
					t.Errorf("want the real answer after AnswerAfter, got %v %v after %v", resp, err, took)
				}
			},
		},
		"committed, then the connection closed": {
			fault:         simulator.Fault{CommitLateNext: 1, CommitLateReset: true},
			clientTimeout: 10 * time.Second,
			seenAtOnce:    true,
			check: func(t *testing.T, _ *http.Response, err error, _ time.Duration) {
				if err == nil || isTimeout(err) {
					t.Errorf("want a closed connection, got %v", err)
				}
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sim := newSimulator(t, simulator.Options{})
			server := httptest.NewServer(sim)
			defer server.Close()
			sim.SetFault(simulator.OpCreate, tc.fault)
			client := &http.Client{Timeout: tc.clientTimeout, Transport: &http.Transport{}}

			started := time.Now()
			resp, _, err := postCreate(client, server.URL, "crm")
			tc.check(t, resp, err, time.Since(started))
			if got, want := listOwned(t, server.URL), map[bool]int{true: 1, false: 0}[tc.seenAtOnce]; got != want {
				t.Fatalf("right after the call the list shows %d owned instances, want %d", got, want)
			}
			eventually(t, "the commit", func() bool { return sim.CommittedLate(simulator.OpCreate) == 1 })
			if took := time.Since(started); took < tc.fault.CommitDelay {
				t.Errorf("committed after %v, before CommitDelay %v", took, tc.fault.CommitDelay)
			}
			if n := listOwned(t, server.URL); n != 1 {
				t.Errorf("after the commit the list shows %d owned instances, want exactly 1", n)
			}
			if _, ok := sim.Faults()[simulator.OpCreate]; ok != (tc.fault.CommitLateRate > 0) {
				t.Errorf("a spent CommitLateNext should leave no fault: %v", sim.Faults())
			}

			// The next create is not faulted (or, for the rate, late again).
			if tc.fault.CommitLateRate == 0 {
				if resp, raw, err := postCreate(client, server.URL, "again"); err != nil || resp.StatusCode != 200 {
					t.Errorf("the create after the fault: %v %s", err, raw)
				}
				if sim.CommittedLate(simulator.OpCreate) != 1 || sim.Count(simulator.OpCreate, 200) != 1 {
					t.Errorf("commits %v, counts %v", sim.CommitCounts(), sim.Counts())
				}
			}
		})
	}
}

func TestCommitLateCountsWhatWentOut(t *testing.T) {
	sim := newSimulator(t, simulator.Options{})
	server := httptest.NewServer(sim)
	defer server.Close()
	client := &http.Client{Timeout: 100 * time.Millisecond, Transport: &http.Transport{}}

	sim.SetFault(simulator.OpCreate, simulator.Fault{CommitLateNext: 1, AnswerAfter: time.Minute})
	if _, _, err := postCreate(client, server.URL, "timed-out"); !isTimeout(err) {
		t.Fatalf("want a timeout, got %v", err)
	}
	// The handler gives up with the client, not after AnswerAfter.
	eventually(t, "the 504 of a client gone", func() bool { return sim.Count(simulator.OpCreate, 504) == 1 })

	sim.SetFault(simulator.OpCreate, simulator.Fault{CommitLateNext: 1, CommitLateReset: true})
	if _, _, err := postCreate(client, server.URL, "reset"); err == nil {
		t.Fatal("want a closed connection")
	}
	if sim.Count(simulator.OpCreate, 0) != 1 || sim.CommittedLate(simulator.OpCreate) != 2 || len(sim.Instances()) != 2 {
		t.Errorf("a reset counts under status 0: counts %v, commits %v", sim.Counts(), sim.CommitCounts())
	}

	// A refused operation commits nothing, and is not counted as committed.
	sim.SetFault(simulator.OpCreate, simulator.Fault{CommitLateNext: 1, AnswerAfter: time.Millisecond})
	resp := do(t, sim, request{method: http.MethodPost, target: "/elements/api-v2/instances", body: `{"element":{"key":"hubspotcrm"},"name":"x"}`})
	expectError(t, resp, 400, "missing required configuration")
	if sim.CommittedLate(simulator.OpCreate) != 2 || len(sim.Instances()) != 2 {
		t.Errorf("a refused create counted as committed: %v", sim.CommitCounts())
	}
}

func TestCommitLateDoesNotBlockOtherRequests(t *testing.T) {
	sim := newSimulator(t, simulator.Options{})
	server := httptest.NewServer(sim)
	defer server.Close()
	const answerAfter = 2 * time.Second
	sim.SetFault(simulator.OpCreate, simulator.Fault{CommitLateRate: 1, AnswerAfter: answerAfter})

	started := time.Now()
	done := make(chan error, 2)
	for i := range 2 {
		go func() {
			_, _, err := postCreate(&http.Client{Transport: &http.Transport{}}, server.URL, fmt.Sprint("held-", i))
			done <- err
		}()
	}
	// Both are applied and now hold their answers.
	eventually(t, "both creates to commit", func() bool { return sim.CommittedLate(simulator.OpCreate) == 2 })
	for range 5 {
		if n := listOwned(t, server.URL); n != 2 {
			t.Errorf("the list shows %d owned instances while the answers are held, want 2", n)
		}
		if resp := do(t, sim, request{method: http.MethodPatch, target: "/elements/api-v2/instances/1", body: `{"name":"n"}`}); resp.status != 200 {
			t.Errorf("patch while the answers are held: %d", resp.status)
		}
	}
	if sim.Total(simulator.OpCreate) != 0 {
		t.Errorf("the held creates were answered early: %v", sim.Counts())
	}
	if took := time.Since(started); took >= answerAfter {
		t.Errorf("other requests waited behind the held ones: %v", took)
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Errorf("held create: %v", err)
		}
	}
	if took := time.Since(started); took < answerAfter || sim.Count(simulator.OpCreate, 200) != 2 {
		t.Errorf("held creates answered after %v, counts %v", took, sim.Counts())
	}
}

func TestCommitFail(t *testing.T) {
	cases := map[string]struct {
		fault       simulator.Fault
		status      int
		contentType string
		// seenAtOnce: the instance is listed as soon as the error is back.
		seenAtOnce bool
	}{
		"503 with the usual error body": {
			fault: simulator.Fault{CommitFailNext: 1}, status: 503, contentType: "application/json", seenAtOnce: true,
		},
		"a proxy's HTML 503": {
			fault:  simulator.Fault{CommitFailRate: 1, CommitFailBody: "<html><body>503 Service Temporarily Unavailable</body></html>"},
			status: 503, contentType: "text/html; charset=utf-8", seenAtOnce: true,
		},
		"a proxy's 504": {
			fault: simulator.Fault{CommitFailNext: 1, CommitFailStatus: 504}, status: 504, contentType: "application/json", seenAtOnce: true,
		},
		"503 at once, committed later": {
			fault: simulator.Fault{CommitFailNext: 1, CommitDelay: 700 * time.Millisecond}, status: 503, contentType: "application/json",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sim := newSimulator(t, simulator.Options{})
			server := httptest.NewServer(sim)
			defer server.Close()
			sim.SetFault(simulator.OpCreate, tc.fault)

			started := time.Now()
			resp, raw, err := postCreate(&http.Client{Timeout: 5 * time.Second}, server.URL, "crm")
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != tc.contentType {
				t.Errorf("answer %d %q, want %d %q", resp.StatusCode, resp.Header.Get("Content-Type"), tc.status, tc.contentType)
			}
			if tc.fault.CommitFailBody == "" {
				var body struct{ RequestID, Message string }
				if json.Unmarshal([]byte(raw), &body) != nil || body.RequestID == "" || body.Message == "" {
					t.Errorf("want the usual error body, got %s", raw)
				}
			} else if raw != tc.fault.CommitFailBody {
				t.Errorf("body %q, want the raw CommitFailBody", raw)
			}
			if got, want := listOwned(t, server.URL), map[bool]int{true: 1, false: 0}[tc.seenAtOnce]; got != want {
				t.Fatalf("right after the error the list shows %d owned instances, want %d", got, want)
			}
			eventually(t, "the commit", func() bool { return sim.CommittedFailed(simulator.OpCreate) == 1 })
			if took := time.Since(started); took < tc.fault.CommitDelay {
				t.Errorf("committed after %v, before CommitDelay %v", took, tc.fault.CommitDelay)
			}
			if n := listOwned(t, server.URL); n != 1 {
				t.Errorf("the list shows %d owned instances, want exactly 1", n)
			}
			if sim.Count(simulator.OpCreate, tc.status) != 1 || sim.Count(simulator.OpCreate, 200) != 0 || sim.CommittedLate(simulator.OpCreate) != 0 {
				t.Errorf("counts %v, commits %v", sim.Counts(), sim.CommitCounts())
			}
		})
	}
}

func TestCommitFaultsOnOtherOperations(t *testing.T) {
	sim := newSimulator(t, simulator.Options{})
	id := createAPIKey(t, sim, "crm")
	target := fmt.Sprintf("/elements/api-v2/instances/%d", id)

	sim.SetFault(simulator.OpPatch, simulator.Fault{CommitFailNext: 1})
	expectError(t, do(t, sim, request{method: http.MethodPatch, target: target, body: `{"name":"renamed"}`}), 503, "Service Unavailable")
	if stored, _ := sim.Instance(id); stored.Name != "renamed" {
		t.Errorf("the patch answered 503 was not applied: %q", stored.Name)
	}
	sim.SetFault(simulator.OpDelete, simulator.Fault{CommitLateNext: 1, AnswerAfter: time.Millisecond})
	if resp := do(t, sim, request{method: http.MethodDelete, target: target}); resp.status != 200 {
		t.Errorf("a late delete answers what the delete answered: %d", resp.status)
	}
	if _, ok := sim.Instance(id); ok {
		t.Error("the late delete was not applied")
	}
	want := map[string]map[string]int{
		simulator.OutcomeCommittedLate:   {simulator.OpDelete: 1},
		simulator.OutcomeCommittedFailed: {simulator.OpPatch: 1},
	}
	if got := sim.CommitCounts(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("commit counts %v, want %v", got, want)
	}
	sim.ResetCounts()
	if got := sim.CommitCounts(); len(got[simulator.OutcomeCommittedLate])+len(got[simulator.OutcomeCommittedFailed]) != 0 {
		t.Errorf("after ResetCounts: %v", got)
	}
}

func TestCommitFaultDrawsRepeat(t *testing.T) {
	run := func(seed int64) string {
		sim := newSimulator(t, simulator.Options{Seed: seed})
		sim.SetFault(simulator.OpCreate, simulator.Fault{CommitLateRate: 0.3, CommitFailRate: 0.5, AnswerAfter: time.Microsecond})
		var trace []int
		for i := range 20 {
			trace = append(trace, do(t, sim, request{method: http.MethodPost, target: "/elements/api-v2/instances", body: apiKeyBody(fmt.Sprint(i))}).status)
		}
		commits := sim.CommitCounts()
		late, failed := commits[simulator.OutcomeCommittedLate][simulator.OpCreate], commits[simulator.OutcomeCommittedFailed][simulator.OpCreate]
		if late+failed == 0 || late+failed == 20 || len(sim.Instances()) != 20 {
			t.Errorf("seed %d: %d late, %d failed, %d instances; every create commits", seed, late, failed, len(sim.Instances()))
		}
		return fmt.Sprint(trace, sim.CommitCounts())
	}
	if a, b := run(7), run(7); a != b {
		t.Errorf("the same seed drew different commit faults:\n%s\n%s", a, b)
	}
	if run(7) == run(8) {
		t.Error("different seeds drew the same commit faults")
	}
}

func TestCommitFaultKnobs(t *testing.T) {
	sim := newSimulator(t, simulator.Options{})
	knob := func(method, path, body string) response {
		t.Helper()
		return do(t, sim, request{method: method, target: "/simulator" + path, body: body, anonymous: true})
	}
	resp := knob("PUT", "/faults/create", `{"commitLateNext":2,"answerAfter":"30s","commitDelay":1500,"commitLateReset":true,"commitFailRate":0.25,"commitFailStatus":502,"commitFailBody":"<html/>"}`)
	if resp.status != 200 {
		t.Fatalf("PUT fault: %d %s", resp.status, resp.raw)
	}
	want := simulator.Fault{CommitLateNext: 2, AnswerAfter: 30 * time.Second, CommitDelay: 1500 * time.Millisecond, CommitLateReset: true,
		CommitFailRate: 0.25, CommitFailStatus: 502, CommitFailBody: "<html/>"}
	if got := sim.Faults()[simulator.OpCreate]; got != want {
		t.Errorf("fault from JSON = %+v", got)
	}
	if got := fmt.Sprint(knob("GET", "/faults", "").body["create"]); !strings.Contains(got, "answerAfter:30s") || !strings.Contains(got, "commitDelay:1.5s") {
		t.Errorf("GET /simulator/faults = %s", got)
	}
	for body, message := range map[string]string{
		`{"commitLateRate":1.5}`:    "commitLateRate must be between 0 and 1",
		`{"commitFailRate":-0.1}`:   "commitFailRate must be between 0 and 1",
		`{"commitLateNext":-1}`:     "commitLateNext must not be negative",
		`{"commitFailNext":-1}`:     "commitFailNext must not be negative",
		`{"answerAfter":"-1s"}`:     "answerAfter must not be negative",
		`{"commitDelay":-5}`:        "commitDelay must not be negative",
		`{"commitFailStatus":99}`:   "commitFailStatus must be between 200 and 599",
		`{"commitFailStatus":"x"}`:  "Invalid fault",
		`{"answerAfter":"shortly"}`: "invalid duration",
	} {
		expectError(t, knob("PUT", "/faults/create", body), 400, message)
	}

	sim.ClearFaults()
	sim.SetFault(simulator.OpCreate, simulator.Fault{CommitFailNext: 1})
	do(t, sim, request{method: http.MethodPost, target: "/elements/api-v2/instances", body: apiKeyBody("crm")})
	if resp := knob("GET", "/commits", ""); fmt.Sprint(resp.body) != "map[committedFailed:map[create:1] committedLate:map[]]" {
		t.Errorf("GET /simulator/commits = %s", resp.raw)
	}
	knob("POST", "/counts/reset", "")
	if resp := knob("GET", "/commits", ""); resp.raw != `{"committedFailed":{},"committedLate":{}}` {
		t.Errorf("GET /simulator/commits after a reset = %s", resp.raw)
	}
}
