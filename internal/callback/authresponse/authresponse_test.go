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

package authresponse

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// What Parse makes of a query.
type verdict int

const (
	accepted verdict = iota
	missingState
	malformedQuery
)

func verdictOf(m *Malformed) verdict {
	switch {
	case m == nil:
		return accepted
	case m.MissingState:
		return missingState
	default:
		return malformedQuery
	}
}

func TestParse(t *testing.T) {
	long := strings.Repeat("a", MaxValueBytes+1)
	tests := []struct {
		name     string
		rawQuery string
		want     Response
		verdict  verdict
	}{
		{name: "code", rawQuery: "code=abc-123&state=s.t",
			want: Response{State: "s.t", Code: "abc-123"}},
		{name: "error with description", rawQuery: "error=access_denied&error_description=The+user+said+no&state=s",
			want: Response{State: "s", Error: "access_denied", ErrorDescription: "The user said no"}},
		{name: "error without description", rawQuery: "state=s&error=access_denied",
			want: Response{State: "s", Error: "access_denied"}},
		{name: "description is put on one line", rawQuery: "state=s&error=x&error_description=" + url.QueryEscape("line one\nline\ttwo\x00"),
			want: Response{State: "s", Error: "x", ErrorDescription: "line one line two"}},
		{name: "description with invalid UTF-8 is repaired", rawQuery: "state=s&error=x&error_description=%ff%fe",
			want: Response{State: "s", Error: "x", ErrorDescription: "\uFFFD"}},
		{name: "description alongside a code is ignored", rawQuery: "state=s&code=c&error_description=hm",
			want: Response{State: "s", Code: "c"}},
		{name: "unknown parameters are ignored", rawQuery: "state=s&code=c&scope=contacts&iss=x",
			want: Response{State: "s", Code: "c"}},

		{name: "empty query", rawQuery: "", verdict: missingState},
		{name: "no state", rawQuery: "code=c", verdict: missingState},
		{name: "empty state", rawQuery: "state=&code=c", verdict: missingState},
		{name: "both code and error", rawQuery: "state=s&code=c&error=access_denied", verdict: malformedQuery},
		{name: "neither code nor error", rawQuery: "state=s", verdict: malformedQuery},
		{name: "empty code", rawQuery: "state=s&code=", verdict: malformedQuery},
		{name: "empty error", rawQuery: "state=s&error=", verdict: malformedQuery},
		{name: "repeated state", rawQuery: "state=s&state=t&code=c", verdict: malformedQuery},
		{name: "repeated code", rawQuery: "state=s&code=c&code=d", verdict: malformedQuery},
		{name: "code with a control character", rawQuery: "state=s&code=a%0Ab", verdict: malformedQuery},
		{name: "code with non-ASCII", rawQuery: "state=s&code=%C3%A9", verdict: malformedQuery},
		{name: "error with a quote", rawQuery: "state=s&error=a%22b", verdict: malformedQuery},
		{name: "malformed escape", rawQuery: "state=s&code=%zz", verdict: malformedQuery},
		{name: "semicolon separator", rawQuery: "state=s;code=c", verdict: malformedQuery},
		{name: "oversized code", rawQuery: "state=s&code=" + long, verdict: malformedQuery},
		{name: "oversized state", rawQuery: "code=c&state=" + long, verdict: malformedQuery},
		{name: "oversized unknown parameter", rawQuery: "state=s&code=c&junk=" + long, verdict: malformedQuery},
		{name: "oversized query", rawQuery: "state=s&code=c" + strings.Repeat("&a=b", MaxRawQueryBytes/4), verdict: malformedQuery},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, m := Parse(tt.rawQuery)
			if v := verdictOf(m); v != tt.verdict {
				t.Fatalf("verdict %d (%v), want %d", v, m, tt.verdict)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("response (-want +got):\n%s", diff)
			}
			if m != nil && (m.Reason == "" || strings.Contains(m.Reason, "%") || strings.Contains(m.Reason, "aaaa")) {
				t.Fatalf("the reason is empty or repeats the request: %q", m.Reason)
			}
		})
	}
}

// FuzzParse: whatever arrives, parsing neither panics nor lets through
// something the callback would misread.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"", "state=a.b&code=c", "state=a.b&error=access_denied&error_description=no",
		"state=a&state=b&code=c", "code=c&error=e&state=s", "state=s;code=c", "%zz", "state=%00&code=%ff",
		"state=s&error=x&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "state=s&code=" + strings.Repeat("x", 5000),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		q, m := Parse(rawQuery)
		if m != nil {
			if m.Reason == "" || q != (Response{}) {
				t.Fatalf("malformed refusal %+v with %+v", m, q)
			}
			return
		}
		if q.State == "" || (q.Code == "") == (q.Error == "") {
			t.Fatalf("accepted %+v: want a state and exactly one of code and error", q)
		}
		if q.Code != "" && q.ErrorDescription != "" {
			t.Fatalf("accepted a description alongside a code: %+v", q)
		}
		for _, v := range []string{q.State, q.Code, q.Error, q.ErrorDescription} {
			if len(v) > MaxValueBytes {
				t.Fatalf("accepted an oversized value of %d bytes", len(v))
			}
		}
		if !isVisibleASCII(q.Code, true) || !isErrorCode(q.Error) || !utf8.ValidString(q.ErrorDescription) ||
			strings.ContainsAny(q.ErrorDescription, "\r\n\x00") {
			t.Fatalf("accepted characters it must not: %+v", q)
		}
	})
}

func TestTruncateKeepsUTF8(t *testing.T) {
	s := strings.Repeat("é", 400) // 800 bytes
	got := Truncate(s, 101)
	if len(got) > 101 || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
		t.Fatalf("Truncate gave %d bytes, valid=%v", len(got), utf8.ValidString(got))
	}
}
