//go:build reliability

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

package reliability

import (
	"encoding/base64"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The leak scan's positive control fails a scan that did not find the value
// planted in each place: one that read nothing, or one that read a place but
// could not match the form planted there.
func TestLeakScanPositiveControl(t *testing.T) {
	canary := "leak-scan-canary-0123456789abcdef"
	needles := (&leakRegistry{values: map[string]string{canary: plantedWhat}}).needles()
	planted := []string{"/logs/operator.log", "Event default/leak-scan-canary-x", "HubSpotInstance ns/obj"}
	texts := map[string]string{
		"/logs/operator.log":               "a line\nleak scan positive control: " + canary + "\n",
		"Event default/leak-scan-canary-x": `{"message":"` + base64.StdEncoding.EncodeToString([]byte(canary)) + `"}`,
		"HubSpotInstance ns/obj":           `{"annotations":{"c":"` + base64.RawURLEncoding.EncodeToString([]byte(canary)) + `"}}`,
	}
	tests := []struct {
		name    string
		scanned []string
		want    []string
	}{
		{name: "every place scanned", scanned: []string{"/logs/operator.log", "Event default/leak-scan-canary-x", "HubSpotInstance ns/obj"}},
		{name: "nothing scanned", want: planted},
		{name: "no Event scanned", scanned: []string{"/logs/operator.log", "HubSpotInstance ns/obj"}, want: []string{"Event default/leak-scan-canary-x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ls := newLeakScanner(needles)
			var leaks []leak
			for _, where := range tt.scanned {
				leaks = append(leaks, ls.scan(where, []byte(texts[where]))...)
			}
			if diff := cmp.Diff(tt.want, notFound(planted, leaks)); diff != "" {
				t.Errorf("places the control was not found (-want +got):\n%s", diff)
			}
		})
	}
}
