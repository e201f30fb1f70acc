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

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

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
