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
	"text/template"

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
		"encoders in a pipeline": {
			data: map[string]string{"b": `{{ .Token | b64enc | squote }} {{ "x" | upper }} {{ replace "o" "0" .Token | lower }}`},
			want: map[string]string{"b": "'dG9r' X t0k"},
		},
		"$.X is .X": {
			data: map[string]string{"a": "{{ $.Token }}/{{ $.UserSecret }}/{{ trimPrefix \"o-\" $.OrganizationSecret }}"},
			want: map[string]string{"a": "tok/u-secret/secret"},
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
		"token only":        {map[string]string{"t": "{{ .Token }}"}, false},
		"user secret":       {map[string]string{"t": "{{ .Token }}", "a": "{{ .UserSecret }}"}, true},
		"inside a pipeline": {map[string]string{"a": "{{ .Token | trimPrefix (.OrganizationSecret | b64enc) }}"}, true},
		"as $.UserSecret":   {map[string]string{"a": "{{ $.UserSecret }}"}, true},
		"as ($.UserSecret)": {map[string]string{"a": "{{ ($.UserSecret) | upper }}"}, true},
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
		"renders far too large": {data: map[string]string{"k": strings.Repeat("{{ .UserSecret }}", MaxRenderedBytes/8+1)}, wantParse: `key "k": may render to more than`},
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

// A realistic element token: each replace below multiplies what it is given
// by its own length plus one.
var realistic = Values{Token: strings.Repeat("t", 44), InstanceID: "42", ElementKey: "hubspotcrm",
	Endpoint: "https://api.cloud-elements.com/elements/api-v2", UserSecret: strings.Repeat("u", 44), OrganizationSecret: strings.Repeat("o", 44)}

// Templates written to hurt the operator, or to learn a secret through
// whether the object gets Ready: each is refused when it is parsed, before
// anything is created, or renders within its bounds.
func TestHostileTemplates(t *testing.T) {
	const accepted = ""
	keys := func(n int, text string) map[string]string {
		m := map[string]string{}
		for i := range n {
			m["k"+strings.Repeat("x", i)] = text
		}
		return m
	}
	cases := map[string]struct {
		data    map[string]string
		refused string // in the Parse error; accepted: it parses and renders
	}{
		"replace on its own output, through variables (out of memory)": {
			data:    map[string]string{"k": `{{ $a := replace "" .Token .Token }}{{ $b := replace "" $a $a }}{{ $c := replace "" $b $b }}ok`},
			refused: `key "k": variables are not supported`},
		"replace on its own output, nested": {
			data:    map[string]string{"k": `{{ replace "" (replace "" (replace "" .Token .Token) (replace "" .Token .Token)) (replace "" .Token .Token) }}`},
			refused: `replace's first argument (old) must be a non-empty string literal`},
		"replace with a non-empty old, nested": {
			data:    map[string]string{"k": `{{ replace "t" (replace "t" .Token .Token) (replace "t" .Token .Token) }}`},
			refused: `key "k": k:1:16: replace may produce more than 65536 bytes`},
		"replace with an empty old": {
			data:    map[string]string{"k": `{{ replace "" "x" .Token }}`},
			refused: `replace's first argument (old) must be a non-empty string literal`},
		"replace with a value as old": {
			data:    map[string]string{"k": `{{ replace .InstanceID "x" .Token }}`},
			refused: `replace's first argument (old) must be a non-empty string literal`},
		"replace growing a value within bounds": {
			data:    map[string]string{"k": `{{ replace "t" "tt" .Token }}`},
			refused: accepted},
		"encoders on encoders past the value bound": {
			data:    map[string]string{"k": `{{ .Token | toJson | toJson }}`},
			refused: `key "k": k:1:21: toJson may produce more than 65536 bytes`},
		"many keys past the Secret's bound": {
			data:    keys(32, `{{ .Token | toJson }}`),
			refused: `may render to more than 524288 bytes in all`},
		"many values past the work bound": {
			data:    keys(8, `{{ .Token | toJson | trim | trim | trim | squote }}`),
			refused: `may produce more than 2097152 bytes in all`},
		"the templates of the README, the samples and the admission tests": {
			data: map[string]string{
				"authorization": "User {{ .UserSecret }}, Organization {{ .OrganizationSecret }}, Element {{ .Token }}",
				"config.json":   `{"endpoint": {{ .Endpoint | toJson }}, "id": {{ .InstanceID }}, "host": "{{ .Endpoint | trimPrefix "https://" }}"}`,
				"app.env":       "TOKEN={{ .Token | quote }}\nELEMENT={{ .ElementKey | upper }}\n",
				"element.json":  `{"element": {{ .ElementKey | toJson }}, "token": {{ .Token | toJson }}}`,
				"lowered":       `{{ trimPrefix "x" (.Token | lower) }}`,
				"quoted":        `{{ .Token | b64enc | quote }}`,
			},
			refused: accepted},
		"the largest that fits every bound": {
			data:    keys(6, `{{ .Token | toJson | trim | trim | trim | squote }}`),
			refused: accepted},
		"printf with a huge width": {
			data:    map[string]string{"k": `{{ printf "%999999999d" "x" }}`},
			refused: `key "k": k:1:3: function printf is not supported`},
		"an unknown value as $.Nope": {
			data:    map[string]string{"k": `{{ $.Nope }}`},
			refused: `key "k": unknown value $.Nope`},
		"an unknown value in a pipeline": {
			data:    map[string]string{"k": `{{ .Token | replace "t" $.Nope }}`},
			refused: `key "k": unknown value $.Nope`},
		"all the values at once": {
			data:    map[string]string{"k": `{{ toJson $ }}`},
			refused: `key "k": k:1:10: $ is all the values: name one`},
		"dot": {
			data:    map[string]string{"k": `{{ . }}`},
			refused: `. is all the values: name one`},
		"a number": {
			data:    map[string]string{"k": `{{ 1 }}`},
			refused: `only string literals`},
		"$.UserSecret": {
			data:    map[string]string{"k": `{{ $.UserSecret }}`},
			refused: accepted},
		"oracle: if on a slice of a secret": {
			data:    map[string]string{"k": `{{ if eq (slice .UserSecret 0 1) "a" }}x{{ end }}`},
			refused: `key "k": if is not supported`},
		"oracle: with": {
			data:    map[string]string{"k": `{{ with .UserSecret }}{{ . }}{{ end }}`},
			refused: `key "k": with is not supported`},
		"oracle: index out of range": {
			data:    map[string]string{"k": `{{ index .UserSecret 40 }}`},
			refused: `function index is not supported`},
		"oracle: slice out of range": {
			data:    map[string]string{"k": `{{ slice .UserSecret 40 }}`},
			refused: `function slice is not supported`},
		"oracle: a comparison that fails on a type": {
			data:    map[string]string{"k": `{{ lt .UserSecret 1 }}`},
			refused: `function lt is not supported`},
		"oracle: len": {
			data:    map[string]string{"k": `{{ len .UserSecret }}`},
			refused: `function len is not supported`},
		"oracle: and": {
			data:    map[string]string{"k": `{{ and .UserSecret "x" }}`},
			refused: `function and is not supported`},
		"oracle: b64dec fails on what is not base64": {
			data:    map[string]string{"k": `{{ .UserSecret | trimPrefix "u" | b64dec }}`},
			refused: `key "k": 1: function "b64dec" not defined`},
		"oracle: replace driving a value past its bound": {
			data:    map[string]string{"k": `{{ replace "u" (.Token | b64enc | b64enc | b64enc) .UserSecret }}`},
			refused: `replace may produce more than 65536 bytes`},
		"a function that does not exist": {
			data:    map[string]string{"k": `{{ call .Token }}`},
			refused: `function call is not supported`},
		"a wrong number of arguments": {
			data:    map[string]string{"k": `{{ replace "a" .Token }}`},
			refused: `replace takes 3 arguments, got 2`},
		"a field of a value": {
			data:    map[string]string{"k": `{{ ($.Token).Length }}`},
			refused: `unknown value`},
		"block": {
			data:    map[string]string{"k": `{{ block "b" . }}x{{ end }}`},
			refused: `define and block are not supported`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tmpl, err := Parse(tc.data)
			got := accepted
			if err != nil {
				got = err.Error()
			} else {
				out, err := tmpl.Render(realistic)
				if err != nil {
					t.Fatalf("Render: %v", err)
				}
				for k, v := range out {
					if len(v) > MaxRenderedBytes {
						t.Errorf("key %q rendered %d bytes", k, len(v))
					}
				}
			}
			if tc.refused == accepted || !strings.Contains(got, tc.refused) {
				if diff := cmp.Diff(tc.refused, got); diff != "" {
					t.Errorf("Parse (-want +got):\n%s", diff)
				}
			}
			for _, secret := range []string{realistic.Token, realistic.UserSecret, realistic.OrganizationSecret} {
				if strings.Contains(got, secret) {
					t.Errorf("the error %q carries a secret value", got)
				}
			}
		})
	}
}

// Render checks at run time what Parse bounds ahead: each function's result,
// the whole render's work, and the values it is given.
func TestFunctionsBoundTheirResults(t *testing.T) {
	long := strings.Repeat("a", MaxRenderedBytes/2)
	cases := map[string]struct {
		left int
		call func(template.FuncMap) (string, error)
		want string // the error; "" for none
	}{
		"replace with an empty old": {MaxRenderWork, func(f template.FuncMap) (string, error) {
			return f["replace"].(func(string, string, string) (string, error))("", "x", "abc")
		}, "replace's first argument (old) must be a non-empty string literal: an empty one, or a value, multiplies what it is given"},
		"replace past the value bound, refused before it is built": {MaxRenderWork, func(f template.FuncMap) (string, error) {
			return f["replace"].(func(string, string, string) (string, error))("a", "aaa", long)
		}, "the result would hold more than 65536 bytes"},
		"toJson past the value bound": {MaxRenderWork, func(f template.FuncMap) (string, error) {
			return f["toJson"].(func(string) (string, error))(strings.Repeat("<", MaxRenderedBytes/6+1))
		}, "the result would hold more than 65536 bytes"},
		"b64enc past the work left": {10, func(f template.FuncMap) (string, error) {
			return f["b64enc"].(func(string) (string, error))("abcdefghij")
		}, "produced more than 2097152 bytes in all while rendering"},
		"within bounds": {MaxRenderWork, func(f template.FuncMap) (string, error) {
			return f["upper"].(func(string) (string, error))(long)
		}, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := tc.call(newFuncs(&budget{left: tc.left}))
			got := ""
			if err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRenderRefusesValuesLongerThanBounded(t *testing.T) {
	tmpl, err := Parse(map[string]string{"k": "{{ .Token }}"})
	if err != nil {
		t.Fatal(err)
	}
	long := values
	long.Token = strings.Repeat("t", MaxSecretValueBytes+1)
	long.UserSecret = strings.Repeat("u", MaxSecretValueBytes+1) // not used: no matter
	_, err = tmpl.Render(long)
	got := ""
	if err != nil {
		got = err.Error()
	}
	if diff := cmp.Diff(".Token is longer than the 8192 bytes a template may be given", got); diff != "" {
		t.Errorf("Render error (-want +got):\n%s", diff)
	}
}
