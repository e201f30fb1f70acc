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

// Package authresponse reads the query of an OAuth 2 authorization response
// (RFC 6749 §4.1.2) that a browser brings to the operator's callback,
// without trusting any of it.
//
// It is apart from the callback server, and imports nothing of Kubernetes,
// so that fuzzing it builds a few packages rather than the whole client
// stack.
package authresponse

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what a callback may carry. Real authorization codes, states and
// error texts are far smaller; anything bigger is an attack or a bug, and
// refusing it early keeps it out of logs, Secrets and the API server.
const (
	MaxRawQueryBytes = 16 << 10
	MaxValueBytes    = 4 << 10
)

// Query parameters of an authorization response.
const (
	paramState            = "state"
	paramCode             = "code"
	paramError            = "error"
	paramErrorDescription = "error_description"
)

// Response is a well-formed authorization response: a state and exactly one
// of Code or Error.
type Response struct {
	State            string
	Code             string
	Error            string
	ErrorDescription string
}

// Malformed is why a query is not an authorization response. Reason is a
// sentence for the person in the browser, and never repeats what the query
// carried.
type Malformed struct {
	// MissingState: nothing ties the request to an authorization the
	// operator asked for.
	MissingState bool
	Reason       string
}

func (m *Malformed) Error() string { return m.Reason }

func malformed(reason string) *Malformed { return &Malformed{Reason: reason} }

// Parse checks the shape of the query: the state is only checked for
// presence here, its signature by the caller.
func Parse(rawQuery string) (Response, *Malformed) {
	if len(rawQuery) > MaxRawQueryBytes {
		return Response{}, malformed("The address is too long to be an authorization response.")
	}
	values, err := url.ParseQuery(rawQuery)
	if err != nil {
		return Response{}, malformed("The address's query is not well-formed.")
	}
	for name, vs := range values {
		for _, v := range vs {
			if len(v) > MaxValueBytes {
				return Response{}, malformed("A query parameter is too long to be part of an authorization response.")
			}
		}
		// A repeated parameter is ambiguous, and ambiguity between what is
		// checked and what is used is how parameter pollution attacks work.
		if len(vs) > 1 && isResponseParam(name) {
			return Response{}, malformed("The parameter " + name + " appears more than once.")
		}
	}

	q := Response{State: values.Get(paramState)}
	if q.State == "" {
		return Response{}, &Malformed{MissingState: true,
			Reason: "The address carries no state, so it cannot be matched to an authorization the operator asked for."}
	}
	hasCode, hasError := values.Has(paramCode), values.Has(paramError)
	switch {
	case hasCode && hasError:
		return Response{}, malformed("The address carries both an authorization code and an error; it is not a valid authorization response.")
	case !hasCode && !hasError:
		return Response{}, malformed("The address carries neither an authorization code nor an error.")
	case hasCode:
		q.Code = values.Get(paramCode)
		if q.Code == "" || !isVisibleASCII(q.Code, true) {
			return Response{}, malformed("The authorization code is empty or contains characters a code cannot have.")
		}
	default:
		q.Error = values.Get(paramError)
		if q.Error == "" || !isErrorCode(q.Error) {
			return Response{}, malformed("The error is empty or contains characters an OAuth error code cannot have.")
		}
		q.ErrorDescription = cleanDescription(values.Get(paramErrorDescription))
	}
	return q, nil
}

func isResponseParam(name string) bool {
	switch name {
	case paramState, paramCode, paramError, paramErrorDescription:
		return true
	}
	return false
}

// isVisibleASCII: RFC 6749 appendix A allows %x20-7E in a code (space only
// when allowSpace).
func isVisibleASCII(s string, allowSpace bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c > 0x7e || c < 0x20 || (c == ' ' && !allowSpace) {
			return false
		}
	}
	return true
}

// isErrorCode: RFC 6749 §4.1.2.1 allows %x20-21 / %x23-5B / %x5D-7E, that
// is visible ASCII and space without '"' and '\'.
func isErrorCode(s string) bool {
	return isVisibleASCII(s, true) && !strings.ContainsAny(s, `"\`)
}

// cleanDescription keeps a provider's explanation readable wherever it is
// shown later (a condition message, an Event, kubectl output) by making it
// valid UTF-8 on one line. It is escaped where it is rendered, not here.
func cleanDescription(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	// Repairing can only grow it threefold; cut it back to the limit.
	return Truncate(strings.TrimSpace(s), MaxValueBytes)
}

// Truncate cuts s to at most n bytes without splitting a UTF-8 sequence, and
// marks the cut with an ellipsis. It is for whatever the callback shows of a
// response: a description here, an Event's note there.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && (s[cut]&0xc0) == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
