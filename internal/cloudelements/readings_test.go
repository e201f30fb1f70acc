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
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	ce "github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
)

// readingEnv is a simulator playing the readings in opts and a client on it.
func readingEnv(t *testing.T, opts simulator.Options) (*simulator.Simulator, *ce.Client, *httptest.Server) {
	t.Helper()
	opts.UserSecret, opts.OrganizationSecret, opts.Seed = "u", "o", 11
	sim := simulator.New(opts)
	server := httptest.NewServer(sim)
	t.Cleanup(server.Close)
	client, err := ce.New(ce.Options{Endpoint: server.URL + simulator.APIPrefix, UserSecret: "u", OrganizationSecret: "o", QPS: 1e6, Burst: 1e6})
	if err != nil {
		t.Fatal(err)
	}
	return sim, client, server
}

func ids(instances []ce.Instance) []int64 {
	var got []int64
	for _, instance := range instances {
		got = append(got, instance.ID)
	}
	return got
}

func listRequests(sim *simulator.Simulator) int {
	return sim.Count(simulator.OpList, http.StatusOK) + sim.Count(simulator.OpList, http.StatusNotFound)
}

// An empty collection, a filter matching nothing and the empty page after a
// last-page token all read as "nothing (more) found" under every reading of
// the empty list (200 [] or 404 "No instances found") and of the last page's
// token, whether or not the platform applies tags[].
func TestEmptyListsUnderEachReading(t *testing.T) {
	const owner = "k8s:team/crm/uid"
	for _, notFound := range []bool{false, true} {
		for _, tokenOnLast := range []bool{false, true} {
			for _, ignoreFilter := range []bool{false, true} {
				name := fmt.Sprintf("EmptyListNotFound=%t/NextPageTokenOnLastPage=%t/IgnoreTagFilter=%t", notFound, tokenOnLast, ignoreFilter)
				t.Run(name, func(t *testing.T) {
					sim, client, _ := readingEnv(t, simulator.Options{
						EmptyListNotFound: notFound, NextPageTokenOnLastPage: tokenOnLast, IgnoreTagFilter: ignoreFilter,
					})
					ctx := context.Background()
					extra := 0 // the empty page read after a last-page token
					if tokenOnLast {
						extra = 1
					}

					// An empty account: one empty page, whatever the reading.
					before := listRequests(sim)
					all, err := client.ListInstances(ctx, nil)
					if err != nil || len(all) != 0 {
						t.Fatalf("empty account: ListInstances = %v, %v", ids(all), err)
					}
					found, err := client.FindInstancesByTag(ctx, owner)
					if err != nil || len(found) != 0 {
						t.Fatalf("empty account: FindInstancesByTag = %v, %v", ids(found), err)
					}
					if n := listRequests(sim) - before; n != 2 {
						t.Errorf("empty account: %d list requests, want 2", n)
					}
					if notFound && sim.Count(simulator.OpList, http.StatusNotFound) == 0 {
						t.Error("the simulator did not answer 404 on an empty list")
					}

					// 201 instances: two pages of 200 and 1; the owner tag is on
					// the last one only.
					var want []int64
					for i := range 201 {
						tags := []string{"bulk"}
						if i == 200 {
							tags = append(tags, owner)
						}
						instance, err := client.CreateInstance(ctx, ce.InstanceRequest{Name: "i" + strconv.Itoa(i), Tags: tags,
							Configuration: map[string]string{ce.ConfigAuthenticationType: ce.AuthenticationTypeAPIKey, ce.ConfigHubSpotAPIKey: "k"}})
						if err != nil {
							t.Fatal(err)
						}
						if i == 200 {
							want = append(want, instance.ID)
						}
					}

					before = listRequests(sim)
					all, err = client.ListInstances(ctx, nil)
					if err != nil || len(all) != 201 {
						t.Fatalf("ListInstances: %d instances, %v; want 201", len(all), err)
					}
					if n := listRequests(sim) - before; n != 2+extra {
						t.Errorf("ListInstances: %d list requests, want %d", n, 2+extra)
					}

					matched, err := client.ListInstances(ctx, func(i ce.Instance) bool { return slices.Contains(i.Tags, owner) })
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(want, ids(matched)); diff != "" {
						t.Errorf("ListInstances with a match on the last page (-want +got):\n%s", diff)
					}

					before = listRequests(sim)
					found, err = client.FindInstancesByTag(ctx, owner)
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(want, ids(found)); diff != "" {
						t.Errorf("FindInstancesByTag (-want +got):\n%s", diff)
					}
					wantLists := 1 + extra
					if ignoreFilter {
						wantLists = 2 + extra
					}
					if n := listRequests(sim) - before; n != wantLists {
						t.Errorf("FindInstancesByTag: %d list requests, want %d", n, wantLists)
					}

					found, err = client.FindInstancesByTag(ctx, "k8s:nobody/none/uid")
					if err != nil || len(found) != 0 {
						t.Errorf("FindInstancesByTag matching nothing = %v, %v; want none and no error", ids(found), err)
					}
				})
			}
		}
	}
}

// Only the platform's own JSON 404 "No … found" reads as an empty list: a
// gateway's HTML 404, an empty 404 or another JSON 404 stays an error, on the
// first page and on a later one.
func TestListNotFoundThatIsNotThePlatformsIsAnError(t *testing.T) {
	cases := map[string]struct {
		contentType, body string
		empty             bool // read as "nothing (more) found"
	}{
		"platform, No instances found": {"application/json", `{"requestId":"r","message":"No instances found"}`, true},
		"platform, other noun":         {"application/json;charset=UTF-8", `{"message":"No element instances found"}`, true},
		"gateway HTML":                 {"text/html", `<html><body><h1>404 Not Found</h1></body></html>`, false},
		"empty body":                   {"", ``, false},
		"JSON, another message":        {"application/json", `{"message":"Not Found"}`, false},
		"JSON without a message":       {"application/json", `{"error":"No instances found"}`, false},
	}
	for name, tc := range cases {
		for _, laterPage := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/later page %t", name, laterPage), func(t *testing.T) {
				server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if laterPage && r.URL.Query().Get("nextPage") == "" {
						w.Header().Set("Content-Type", "application/json")
						w.Header().Set(ce.NextPageHeader, "p2")
						_, _ = io.WriteString(w, `[{"id":1,"tags":["t"]}]`)
						return
					}
					if tc.contentType != "" {
						w.Header().Set("Content-Type", tc.contentType)
					}
					w.WriteHeader(http.StatusNotFound)
					_, _ = io.WriteString(w, tc.body)
				}))
				defer server.Close()
				client, err := ce.New(ce.Options{Endpoint: server.URL, UserSecret: "u", OrganizationSecret: "o", QPS: 1e6, Burst: 1e6})
				if err != nil {
					t.Fatal(err)
				}
				var want []int64
				if laterPage {
					want = []int64{1}
				}
				for call, list := range map[string]func() ([]ce.Instance, error){
					"ListInstances":      func() ([]ce.Instance, error) { return client.ListInstances(context.Background(), nil) },
					"FindInstancesByTag": func() ([]ce.Instance, error) { return client.FindInstancesByTag(context.Background(), "t") },
				} {
					got, err := list()
					if tc.empty {
						if err != nil || !slices.Equal(ids(got), want) {
							t.Errorf("%s = %v, %v; want %v and no error", call, ids(got), err, want)
						}
						continue
					}
					if err == nil {
						t.Errorf("%s = %v without an error; a 404 that is not the platform's empty list must fail", call, ids(got))
					} else if !ce.IsRetryable(err) && tc.contentType != "application/json" {
						t.Errorf("%s: a 404 that is not the platform's should be retryable: %v", call, err)
					}
				}
			})
		}
	}
}

// wireInstance reads an instance as the simulator sends it, to check that
// the reading under test is really played.
func wireInstance(t *testing.T, server *httptest.Server, id int64) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, server.URL+simulator.APIPrefix+"/instances/"+strconv.FormatInt(id, 10), nil)
	req.Header.Set("Authorization", "User u, Organization o")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return body
}

// Every shape the record shows for an instance decodes to the same Instance:
// object tags to their names, typed configuration values to their text,
// masked secrets as MaskedValue, extra fields ignored; and FindInstancesByTag
// still finds by tag.
func TestInstanceShapesUnderEachReading(t *testing.T) {
	const owner = "k8s:team/crm/uid"
	readings := map[string]simulator.Options{
		"strings (default)":          {},
		"ObjectTags":                 {ObjectTags: true},
		"ObjectTags, filter ignored": {ObjectTags: true, IgnoreTagFilter: true},
		"TypedConfigurationValues":   {TypedConfigurationValues: true},
		"OmitExtraInstanceFields":    {OmitExtraInstanceFields: true},
		"all of them":                {ObjectTags: true, TypedConfigurationValues: true, EmptyListNotFound: true, NextPageTokenOnLastPage: true, ClearClientID: true, PutDropsOAuthTokens: true},
	}
	for name, opts := range readings {
		t.Run(name, func(t *testing.T) {
			_, client, server := readingEnv(t, opts)
			ctx := context.Background()
			request := ce.InstanceRequest{
				Name: "crm",
				Tags: []string{"bulk", owner},
				Configuration: map[string]string{
					ce.ConfigAuthenticationType:   ce.AuthenticationTypeAPIKey,
					ce.ConfigHubSpotAPIKey:        "a-secret-api-key",
					ce.ConfigCreateBulkProperties: "true",
					ce.ConfigFilterResponseNulls:  "false",
					"custom.count":                "15",
					"custom.zero":                 "007",
				},
			}
			wantConfiguration := ce.RedactConfiguration(request.Configuration)
			check := func(what string, instance *ce.Instance, err error, tags []string) {
				t.Helper()
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				if diff := cmp.Diff(tags, instance.Tags); diff != "" {
					t.Errorf("%s: tags (-want +got):\n%s", what, diff)
				}
				if diff := cmp.Diff(wantConfiguration, instance.Configuration); diff != "" {
					t.Errorf("%s: configuration (-want +got):\n%s", what, diff)
				}
			}
			// Another instance first, so that the filter matters.
			if _, err := client.CreateInstance(ctx, ce.InstanceRequest{Name: "other", Tags: []string{"bulk"}, Configuration: request.Configuration}); err != nil {
				t.Fatal(err)
			}
			created, err := client.CreateInstance(ctx, request)
			check("create", created, err, request.Tags)
			got, err := client.GetInstance(ctx, created.ID)
			check("get", got, err, request.Tags)
			updated, err := client.UpdateInstance(ctx, created.ID, request)
			check("update", updated, err, request.Tags)
			patched, err := client.PatchInstance(ctx, created.ID, ce.InstancePatch{Tags: []string{owner, "c"}})
			check("patch", patched, err, []string{owner, "c"})

			found, err := client.FindInstancesByTag(ctx, owner)
			if err != nil || !slices.Equal(ids(found), []int64{created.ID}) {
				t.Fatalf("FindInstancesByTag = %v, %v; want [%d]", ids(found), err, created.ID)
			}
			check("find by tag", &found[0], nil, []string{owner, "c"})

			wire := wireInstance(t, server, created.ID)
			tags := wire["tags"].([]any)
			if _, isObject := tags[0].(map[string]any); isObject != opts.ObjectTags {
				t.Errorf("wire tags %v: objects %t, want %t", tags, isObject, opts.ObjectTags)
			}
			configuration := wire["configuration"].(map[string]any)
			_, isBool := configuration[ce.ConfigCreateBulkProperties].(bool)
			_, isNumber := configuration["custom.count"].(float64)
			if isBool != opts.TypedConfigurationValues || isNumber != opts.TypedConfigurationValues {
				t.Errorf("wire configuration %v: typed %t/%t, want %t", configuration, isBool, isNumber, opts.TypedConfigurationValues)
			}
			if configuration["custom.zero"] != "007" || configuration[ce.ConfigHubSpotAPIKey] != ce.MaskedValue {
				t.Errorf("wire configuration %v: 007 and the masked secret must stay strings", configuration)
			}
			for _, field := range []string{"user", "createdDate", "updatedDate", "elementId", "traceLoggingEnabled"} {
				if _, ok := wire[field]; ok == opts.OmitExtraInstanceFields {
					t.Errorf("wire field %s present %t, want %t", field, ok, !opts.OmitExtraInstanceFields)
				}
			}
		})
	}
}

func TestDecodeInstanceShapes(t *testing.T) {
	cases := map[string]struct {
		body          string
		tags          []string
		configuration map[string]string
	}{
		"strings": {
			body: `{"id":1,"tags":["a","b"],"configuration":{"k":"v","oauth.api.secret":"********"}}`,
			tags: []string{"a", "b"}, configuration: map[string]string{"k": "v", "oauth.api.secret": "********"},
		},
		"object tags": {
			body: `{"id":1,"tags":[{"id":12,"name":"my_first_tag"},{"id":13,"name":"k8s:a/b/c","extra":true}]}`,
			tags: []string{"my_first_tag", "k8s:a/b/c"},
		},
		"mixed and odd tags": {
			body: `{"id":1,"tags":["a",{"name":"b"},null,{"id":3},7]}`,
			tags: []string{"a", "b", `{"id":3}`, "7"},
		},
		"a single tag, not a list": {body: `{"id":1,"tags":"solo"}`, tags: []string{"solo"}},
		"typed configuration values": {
			body: `{"id":1,"configuration":{"event.notification.enabled":true,"filter.response.nulls":false,"event.poller.refresh_interval":15,"big":12345678901234567890123,"ratio":1.5e3,"none":null,
				"event.poller.configuration":{"contacts": {"url": "/hubs/crm/contacts", "idField": "id"}},"list":[1, "x"]}}`,
			configuration: map[string]string{
				"event.notification.enabled": "true", "filter.response.nulls": "false", "event.poller.refresh_interval": "15",
				"big": "12345678901234567890123", "ratio": "1.5e3", "none": "",
				"event.poller.configuration": `{"contacts":{"url":"/hubs/crm/contacts","idField":"id"}}`, "list": `[1,"x"]`,
			},
		},
		"configuration that is not an object": {body: `{"id":1,"configuration":["a"]}`},
		"extra fields": {
			body: `{"id":1,"user":{"id":9,"emailAddress":"x@example.com"},"createdDate":"2017-08-07T18:46:38Z","updatedDate":"2017-08-07T18:46:38Z","elementId":168,"traceLoggingEnabled":false,"tags":["t"]}`,
			tags: []string{"t"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var instance ce.Instance
			if err := json.Unmarshal([]byte(tc.body), &instance); err != nil {
				t.Fatal(err)
			}
			if instance.ID != 1 {
				t.Errorf("id = %d", instance.ID)
			}
			if diff := cmp.Diff(tc.tags, instance.Tags, cmpEmptyNil); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.configuration, instance.Configuration, cmpEmptyNil); diff != "" {
				t.Errorf("configuration (-want +got):\n%s", diff)
			}
		})
	}
	var instance ce.Instance
	if err := json.Unmarshal([]byte(`{"id":"12345"}`), &instance); err == nil {
		t.Error("an id that is not a number must still fail")
	}
}

var cmpEmptyNil = cmp.FilterValues(func(x, y any) bool {
	return isEmpty(x) && isEmpty(y)
}, cmp.Ignore())

func isEmpty(v any) bool {
	switch v := v.(type) {
	case []string:
		return len(v) == 0
	case map[string]string:
		return len(v) == 0
	}
	return false
}
