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
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	ce "github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
)

// FindInstancesByTag must find exactly the tagged instances whether the
// platform filters by tags[] (one request) or ignores the filter (the client
// pages through the account and filters itself).
func TestFindInstancesByTagUnderEachReading(t *testing.T) {
	cases := map[string]struct {
		ignoreFilter bool
		wantLists    int
	}{
		"the platform filters by tags[]":  {false, 1},
		"the platform ignores the filter": {true, 3}, // 450 instances, pages of 200
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sim := simulator.New(simulator.Options{UserSecret: "u", OrganizationSecret: "o", Seed: 7, IgnoreTagFilter: tc.ignoreFilter})
			server := httptest.NewServer(sim)
			defer server.Close()
			client, err := ce.New(ce.Options{Endpoint: server.URL + "/elements/api-v2", UserSecret: "u", OrganizationSecret: "o", QPS: 1e6, Burst: 1e6})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			var want []int64
			for i := range 450 {
				tags := []string{"bulk"}
				if i == 3 || i == 250 || i == 449 { // on the first, second and third page
					tags = append(tags, "k8s:team/crm/uid")
				}
				inst, err := client.CreateInstance(ctx, ce.InstanceRequest{Element: ce.ElementRef{Key: ce.ElementKey},
					Name: "i" + strconv.Itoa(i), Tags: tags,
					Configuration: map[string]string{ce.ConfigAuthenticationType: "apiKey", ce.ConfigHubSpotAPIKey: "k"}})
				if err != nil {
					t.Fatal(err)
				}
				if len(tags) == 2 {
					want = append(want, inst.ID)
				}
			}
			before := sim.Count(simulator.OpList, http.StatusOK)
			found, err := client.FindInstancesByTag(ctx, "k8s:team/crm/uid")
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, inst := range found {
				got = append(got, inst.ID)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("found (-want +got):\n%s", diff)
			}
			if lists := sim.Count(simulator.OpList, http.StatusOK) - before; lists != tc.wantLists {
				t.Errorf("%d list requests, want %d", lists, tc.wantLists)
			}
		})
	}
}
