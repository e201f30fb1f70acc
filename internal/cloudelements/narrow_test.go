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

package cloudelements_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	ce "github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
)

// The calls that change an instance without a full PUT: what they send, and
// how they read an endpoint that answers in any of the record's shapes.

func TestConfigurationEntriesDecodeAnyValue(t *testing.T) {
	client, _ := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `[
			{"id": 1, "key": "filter.response.nulls", "propertyValue": true},
			{"id": 2, "key": "event.poller.refresh_interval", "propertyValue": 15},
			{"id": 3, "key": "event.poller.configuration", "propertyValue": {"contacts": {"url": "/hubs/crm/contacts"}}},
			{"id": 4, "key": "event.objects", "propertyValue": null},
			{"id": 5, "key": "oauth.api.secret", "propertyValue": "********", "name": "Client secret", "hideFromConsole": false},
			{"id": 6, "key": "oauth.scope"}
		]`)
	})
	got, err := client.InstanceConfiguration(context.Background(), 9)
	if err != nil {
		t.Fatal(err)
	}
	want := []ce.ConfigurationEntry{
		{ID: 1, Key: "filter.response.nulls", PropertyValue: "true"},
		{ID: 2, Key: "event.poller.refresh_interval", PropertyValue: "15"},
		{ID: 3, Key: "event.poller.configuration", PropertyValue: `{"contacts":{"url":"/hubs/crm/contacts"}}`},
		{ID: 4, Key: "event.objects", PropertyValue: ""},
		{ID: 5, Key: "oauth.api.secret", PropertyValue: ce.MaskedValue},
		{ID: 6, Key: "oauth.scope", PropertyValue: ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("InstanceConfiguration (-want +got):\n%s", diff)
	}
}

func TestNarrowCallsSendOnlyWhatTheyChange(t *testing.T) {
	type seen struct{ Method, Path, Body string }
	name := "renamed"
	cases := map[string]struct {
		call func(*ce.Client) error
		want seen
	}{
		"PATCH name and tags, with the instance id as documented": {
			call: func(c *ce.Client) error {
				_, err := c.PatchInstance(context.Background(), 9, ce.InstancePatch{Name: &name, Tags: []string{"a", "k8s:ns/x/uid"}})
				return err
			},
			want: seen{"PATCH", "/elements/api-v2/instances/9", `{"id":9,"name":"renamed","tags":["a","k8s:ns/x/uid"]}`},
		},
		"PATCH one configuration key": {
			call: func(c *ce.Client) error {
				_, err := c.SetConfigurationValue(context.Background(), 9, ce.ConfigurationEntry{ID: 31, Key: "event.objects", PropertyValue: "contacts"})
				return err
			},
			want: seen{"PATCH", "/elements/api-v2/instances/9/configuration/31", `{"id":31,"key":"event.objects","propertyValue":"contacts"}`},
		},
		"enable": {
			call: func(c *ce.Client) error { return c.SetInstanceEnabled(context.Background(), 9, true) },
			want: seen{"PUT", "/elements/api-v2/instances/9/enabled", ""},
		},
		"disable": {
			call: func(c *ce.Client) error { return c.SetInstanceEnabled(context.Background(), 9, false) },
			want: seen{"DELETE", "/elements/api-v2/instances/9/enabled", ""},
		},
	}
	for n, tc := range cases {
		t.Run(n, func(t *testing.T) {
			var got seen
			client, _ := hostile(t, func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				got = seen{r.Method, r.URL.Path, string(body)}
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"id": 9, "key": "event.objects", "propertyValue": "contacts"}`)
			})
			if err := tc.call(client); err != nil {
				t.Fatal(err)
			}
			if got.Body != "" {
				var compact map[string]any
				if err := json.Unmarshal([]byte(got.Body), &compact); err != nil {
					t.Fatalf("body is not JSON: %q", got.Body)
				}
				b, _ := json.Marshal(compact)
				got.Body = string(b)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSetConfigurationValueNeverPrintsASecret(t *testing.T) {
	// An endpoint that echoes the request body in its error message.
	client, _ := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		msg, _ := json.Marshal(map[string]string{"message": "refused " + string(body)})
		_, _ = w.Write(msg)
	})
	_, err := client.SetConfigurationValue(context.Background(), 9, ce.ConfigurationEntry{ID: 5, Key: "oauth.api.secret", PropertyValue: clientSecret})
	if err == nil {
		t.Fatal("want the 400")
	}
	assertNoSecrets(t, "the error", err.Error())
	assertNoSecrets(t, "the entry", fmt.Sprint(ce.ConfigurationEntry{ID: 5, Key: "oauth.api.secret", PropertyValue: clientSecret}))
	assertNoSecrets(t, "the entry", fmt.Sprintf("%#v", ce.ConfigurationEntry{ID: 5, Key: "oauth.api.secret", PropertyValue: clientSecret}))
}

func TestSetConfigurationValueNeedsAnID(t *testing.T) {
	var requests atomic.Int64
	client, _ := hostile(t, func(w http.ResponseWriter, _ *http.Request) { requests.Add(1) })
	if _, err := client.SetConfigurationValue(context.Background(), 9, ce.ConfigurationEntry{Key: "event.objects"}); err == nil {
		t.Error("an entry without an id was accepted")
	}
	if requests.Load() != 0 {
		t.Errorf("%d requests sent for an entry without an id", requests.Load())
	}
}

func TestIsRateLimited(t *testing.T) {
	cases := map[string]struct {
		err  error
		want bool
	}{
		"429":                           {&ce.APIError{StatusCode: 429}, true},
		"429, wrapped":                  {fmt.Errorf("creating: %w", &ce.APIError{StatusCode: 429}), true},
		"503":                           {&ce.APIError{StatusCode: 503}, false},
		"the client's own rate limiter": {fmt.Errorf("x: %w", ce.ErrClientRateLimited), false},
		"nil":                           {nil, false},
	}
	for n, tc := range cases {
		t.Run(n, func(t *testing.T) {
			if got := ce.IsRateLimited(tc.err); got != tc.want {
				t.Errorf("IsRateLimited(%v) = %t, want %t", tc.err, got, tc.want)
			}
		})
	}
}
