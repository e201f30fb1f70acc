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

package tokentemplate

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var values = Values{Token: "tok", InstanceID: "42", ElementKey: "hubspotcrm",
	Endpoint: "https://api.cloud-elements.com/elements/api-v2", UserSecret: "u-secret", OrganizationSecret: "o-secret"}

func TestRender(t *testing.T) {
	cases := map[string]struct {
		data map[string]string
		want map[string]string
	}{
		"authorization header": {
			data: map[string]string{"authorization": "User {{ .UserSecret }}, Organization {{ .OrganizationSecret }}, Element {{ .Token }}"},
			want: map[string]string{"authorization": "User u-secret, Organization o-secret, Element tok"},
		},
		"env file": {
			data: map[string]string{"app.env": "CE_TOKEN={{ .Token | quote }}\nCE_INSTANCE={{ .InstanceID }}\n"},
			want: map[string]string{"app.env": "CE_TOKEN=\"tok\"\nCE_INSTANCE=42\n"},
		},
		"json config": {
			data: map[string]string{"config.json": `{"endpoint": {{ .Endpoint | toJson }}, "element": {{ .ElementKey | upper | toJson }}}`},
			want: map[string]string{"config.json": `{"endpoint": "https://api.cloud-elements.com/elements/api-v2", "element": "HUBSPOTCRM"}`},
		},
		"sprig argument order": {
			data: map[string]string{"host": `{{ .Endpoint | trimPrefix "https://" | trimSuffix "/elements/api-v2" | replace "." "-" }}`},
			want: map[string]string{"host": "api-cloud-elements-com"},
		},
		"base64 both ways, conditionals": {
			data: map[string]string{"b": `{{ .Token | b64enc | b64dec }}{{ if .UserSecret }}!{{ end }}`},
			want: map[string]string{"b": "tok!"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tmpl, err := Parse(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			out, err := tmpl.Render(values)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for k, v := range out {
				got[k] = string(v)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("rendered (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUsesAccountSecrets(t *testing.T) {
	cases := map[string]struct {
		data map[string]string
		want bool
	}{
		"token only":           {map[string]string{"t": "{{ .Token }}"}, false},
		"user secret":          {map[string]string{"t": "{{ .Token }}", "a": "{{ .UserSecret }}"}, true},
		"inside a conditional": {map[string]string{"a": "{{ if .OrganizationSecret }}x{{ end }}"}, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tmpl, err := Parse(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if got := tmpl.UsesAccountSecrets(); got != tc.want {
				t.Errorf("UsesAccountSecrets = %v, want %v", got, tc.want)
			}
		})
	}
}

// Every refusal names the key; none carries a value.
func TestRefusals(t *testing.T) {
	cases := map[string]struct {
		data       map[string]string
		wantParse  string // in the Parse error; "" if Parse succeeds
		wantRender string // in the Render error
	}{
		"does not parse":        {data: map[string]string{"k": "{{ .Token "}, wantParse: `key "k": 1: unclosed action`},
		"unknown value":         {data: map[string]string{"k": "{{ .Password }}"}, wantParse: `key "k": unknown value .Password`},
		"nested field":          {data: map[string]string{"k": "{{ .Token.Length }}"}, wantParse: `key "k": unknown value .Token.Length`},
		"unknown function":      {data: map[string]string{"k": `{{ env "HOME" }}`}, wantParse: `key "k": 1: function "env" not defined`},
		"range":                 {data: map[string]string{"k": "{{ range 1000000000 }}x{{ end }}"}, wantParse: `key "k": range is not supported`},
		"define":                {data: map[string]string{"k": `{{ define "x" }}{{ .Token }}{{ end }}`}, wantParse: `key "k": define and block are not supported`},
		"template call":         {data: map[string]string{"k": `{{ template "k" }}`}, wantParse: `key "k": template calls are not supported`},
		"a function fails":      {data: map[string]string{"k": "{{ .Token | b64dec }}"}, wantRender: `key "k": k:1:12: executing "k" at <b64dec>: error calling b64dec: not base64`},
		"renders far too large": {data: map[string]string{"k": strings.Repeat("{{ .UserSecret }}", MaxRenderedBytes/8+1)}, wantRender: `key "k": renders to more than`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tmpl, err := Parse(tc.data)
			if tc.wantParse != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantParse) {
					t.Fatalf("Parse error = %v, want it to contain %q", err, tc.wantParse)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, err = tmpl.Render(values)
			if err == nil || !strings.Contains(err.Error(), tc.wantRender) {
				t.Fatalf("Render error = %v, want it to contain %q", err, tc.wantRender)
			}
			for _, secret := range []string{values.Token, values.UserSecret, values.OrganizationSecret} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error %q carries a secret value", err)
				}
			}
		})
	}
}
