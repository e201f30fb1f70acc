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
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
)

// checkAnswer holds every answer to the platform's shape: JSON with a
// message and a request id on errors, and never a 5xx the fuzzer caused.
func checkAnswer(t *testing.T, w *httptest.ResponseRecorder, allowed ...int) {
	t.Helper()
	if w.Code >= 500 {
		t.Fatalf("the simulator failed itself: %d %s", w.Code, w.Body)
	}
	if len(allowed) > 0 && !containsInt(allowed, w.Code) {
		t.Fatalf("status %d not among %v: %s", w.Code, allowed, w.Body)
	}
	if w.Code == http.StatusFound || w.Code == http.StatusSeeOther || w.Body.Len() == 0 {
		return
	}
	if !json.Valid(w.Body.Bytes()) {
		t.Fatalf("status %d with a non-JSON body: %q", w.Code, w.Body)
	}
	if w.Code >= 400 {
		var body struct{ Message, RequestID string }
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		if body.Message == "" || body.RequestID == "" {
			t.Fatalf("error without message or requestId: %s", w.Body)
		}
	}
}

// fuzzSimulator is fresh for every input, so that inputs cannot pile up
// instances or leave faults behind, and holds instance 1 for PUT and PATCH.
func fuzzSimulator(t *testing.T) *simulator.Simulator {
	sim := simulator.New(simulator.Options{UserSecret: userSecret, OrganizationSecret: organizationSecret, Seed: 1})
	r := httptest.NewRequest(http.MethodPost, "/elements/api-v2/instances", strings.NewReader(apiKeyBody("fuzz")))
	r.Header.Set("Authorization", authorization)
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	sim.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("creating instance 1: %d %s", w.Code, w.Body)
	}
	return sim
}

func containsInt(values []int, v int) bool {
	for _, candidate := range values {
		if candidate == v {
			return true
		}
	}
	return false
}

func FuzzSimulatorCreate(f *testing.F) {
	f.Add([]byte(apiKeyBody("crm")), "application/json")
	f.Add([]byte(oauth2Body("00000000-0000-0000-0000-000000000000")), "application/json; charset=utf-8")
	f.Add([]byte(`{"element":{"key":"hubspotcrm"},"providerData":{"apikey":"c","access_token":"a","refresh_token":"r","expires_in":21600},"configuration":{"oauth.api.key":"c","oauth.api.secret":"123","oauth.callback.url":"x","oauth.scope":"contacts-rw+offline"},"name":"n"}`), "application/json")
	f.Add([]byte(`{"element":{"id":168},"externalAuthentication":"initial","configuration":{"oauth.api.key":"c","oauth.api.secret":"s","oauth.user.refresh_token":"r"},"name":"n"}`), "application/json")
	f.Add([]byte(`{"element":{"key":"hubspotcrm"},"configuration":{"event.notification.enabled":"true","authentication.type":"apiKey"},"name":"n"}`), "application/json")
	f.Add([]byte(`{"element":{"key":"x"},"configuration":{"a":1,"b":null,"c":[]},"providerData":{"code":{}}}`), "application/json")
	f.Add([]byte(`{"element":{"key":"hubspotcrm"},"configuration":{"authentication.type":"apiKey","hubspot.authorization.apikey":"k","filter.response.nulls":true,"event.poller.configuration":{"c":{}}},"name":"<i>n</i>"}`), "application/json")
	f.Add([]byte(`{"id":1,"name":"n","tags":["a"]}`), "application/json")
	f.Add([]byte(`{"element":null,"tags":"no","name":5}`), "application/json")
	f.Add([]byte(`null`), "application/json")
	f.Add([]byte(`[]`), "application/json")
	f.Add([]byte(`{"name":"a"}{"name":"b"}`), "application/json")
	f.Add([]byte("\xff\x00{"), "application/json")
	f.Add([]byte(`{}`), "text/plain")
	f.Add([]byte(`{}`), ";;;")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		sim := fuzzSimulator(t)
		for _, target := range []string{"/elements/api-v2/instances", "/elements/api-v2/elements/168/instances"} {
			r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(string(body)))
			r.Header.Set("Authorization", authorization)
			r.Header.Set("Content-Type", contentType)
			w := httptest.NewRecorder()
			sim.ServeHTTP(w, r)
			checkAnswer(t, w, 200, 400, 404, 413, 415)
		}
		// The same body as a replace, a re-authorization and a patch.
		for _, method := range []string{"PUT", "PATCH"} {
			for _, target := range []string{"/elements/api-v2/instances/1", "/elements/api-v2/instances/1?reAuthenticate=true"} {
				r := httptest.NewRequest(method, target, strings.NewReader(string(body)))
				r.Header.Set("Authorization", authorization)
				r.Header.Set("Content-Type", contentType)
				w := httptest.NewRecorder()
				sim.ServeHTTP(w, r)
				checkAnswer(t, w, 200, 400, 404, 413, 415)
			}
		}
	})
}

// FuzzSimulatorRequest throws arbitrary methods, paths and queries at every
// route, knobs and consent pages included.
func FuzzSimulatorRequest(f *testing.F) {
	f.Add("GET", "/elements/api-v2/instances", "pageSize=2&nextPage=YWZ0ZXI6MQ", "")
	f.Add("GET", "/elements/api-v2/instances", "nextPage=YWZ0ZXI6LTk5OTk5OTk5OTk5OTk5OTk5OTk5", "")
	f.Add("GET", "/elements/api-v2/elements/hubspotcrm/oauth/url", "apiKey=a&apiSecret=1&scope=contacts-rw&callbackUrl=http://x", "")
	f.Add("GET", "/simulator/hubspot/oauth/authorize", "client_id=c&redirect_uri=http://x?y=1&state=%ff", "")
	f.Add("GET", "/simulator/hubspot/auth/authenticate", "client_id=c&portalId=1&redirect_uri=mailto:x", "")
	f.Add("POST", "/simulator/hubspot/oauth/authorize", "", "client_id=c&redirect_uri=http://x&state=%ff&decision=allow")
	f.Add("PUT", "/simulator/faults/get", "", `{"latency":1e300}`)
	f.Add("PUT", "/simulator/faults/*", "", `{"status":200,"body":"<html>"}`)
	f.Add("POST", "/simulator/instances/1/invalidate", "", "")
	f.Add("POST", "/simulator/codes", "client_id=x", "")
	f.Add("DELETE", "/elements/api-v2/instances/9223372036854775807", "", "")
	f.Add("PATCH", "/elements/api-v2/instances/-1", "", `{"tags":null}`)
	f.Add("GET", "/elements/api-v2//instances//", "", "")
	f.Add("GET", "/elements/api-v2/instances/1/configuration", "", "")
	f.Add("PATCH", "/elements/api-v2/instances/1/configuration/5", "", `{"id":5,"key":"filter.response.nulls","propertyValue":{"a":[1]}}`)
	f.Add("PATCH", "/elements/api-v2/instances/1/configuration/99999999999999999999", "", `{"propertyValue":null}`)
	f.Add("PUT", "/elements/api-v2/instances/1/enabled", "", "")
	f.Add("DELETE", "/elements/api-v2/instances/enabled", "", "")
	f.Add("GET", "/elements/api-v2/instances", "searchText=%00&tags[]=", "")
	f.Add("PUT", "/elements/api-v2/instances/1", "", `{"name":"<b>x</b>","tags":["<"]}`)
	f.Fuzz(func(t *testing.T, method, path, query, body string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path+query+method, " \t\r\n#") || method == "" ||
			strings.ContainsFunc(method, func(r rune) bool { return r < '!' || r > '~' }) || method == "CONNECT" {
			t.Skip()
		}
		target := path
		if query != "" {
			target += "?" + query
		}
		r, err := http.NewRequest(method, "http://sim.test"+target, strings.NewReader(body))
		if err != nil {
			t.Skip()
		}
		r.Header.Set("Authorization", authorization)
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		fuzzSimulator(t).ServeHTTP(w, r)
		checkAnswer(t, w)
	})
}
