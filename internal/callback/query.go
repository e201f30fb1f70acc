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

package callback

import (
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what a callback may carry. Real authorization codes, states and
// error texts are far smaller; anything bigger is an attack or a bug, and
// refusing it early keeps it out of logs, Secrets and the API server.
const (
	maxRawQueryBytes = 16 << 10
	maxValueBytes    = 4 << 10
)

// Query parameters of an OAuth 2 authorization response (RFC 6749 §4.1.2).
const (
	paramState            = "state"
	paramCode             = "code"
	paramError            = "error"
	paramErrorDescription = "error_description"
)

// callbackQuery is a well-formed authorization response: a state and exactly
// one of Code or Error.
type callbackQuery struct {
	State            string
	Code             string
	Error            string
	ErrorDescription string
}

// refusal is why a request is answered with an error page: the HTTP status,
// the metric's result label, and a sentence for the person in the browser.
// The sentence never repeats what the request carried.
type refusal struct {
	status int
	result string
	reason string
	// cause is what went wrong inside, for the log only.
	cause error
}

func badRequest(reason string) *refusal {
	return &refusal{status: http.StatusBadRequest, result: resultBadRequest, reason: reason}
}

// parseCallbackQuery checks the shape of the query without trusting any of
// it: the state is only checked for presence here, its signature later.
func parseCallbackQuery(rawQuery string) (callbackQuery, *refusal) {
	if len(rawQuery) > maxRawQueryBytes {
		return callbackQuery{}, badRequest("The address is too long to be an authorization response.")
	}
	values, err := url.ParseQuery(rawQuery)
	if err != nil {
		return callbackQuery{}, badRequest("The address's query is not well-formed.")
	}
	for name, vs := range values {
		for _, v := range vs {
			if len(v) > maxValueBytes {
				return callbackQuery{}, badRequest("A query parameter is too long to be part of an authorization response.")
			}
		}
		// A repeated parameter is ambiguous, and ambiguity between what is
		// checked and what is used is how parameter pollution attacks work.
		if len(vs) > 1 && isResponseParam(name) {
			return callbackQuery{}, badRequest("The parameter " + name + " appears more than once.")
		}
	}

	q := callbackQuery{State: values.Get(paramState)}
	if q.State == "" {
		return callbackQuery{}, &refusal{status: http.StatusBadRequest, result: resultMissingState,
			reason: "The address carries no state, so it cannot be matched to an authorization the operator asked for."}
	}
	hasCode, hasError := values.Has(paramCode), values.Has(paramError)
	switch {
	case hasCode && hasError:
		return callbackQuery{}, badRequest("The address carries both an authorization code and an error; it is not a valid authorization response.")
	case !hasCode && !hasError:
		return callbackQuery{}, badRequest("The address carries neither an authorization code nor an error.")
	case hasCode:
		q.Code = values.Get(paramCode)
		if q.Code == "" || !isVisibleASCII(q.Code, true) {
			return callbackQuery{}, badRequest("The authorization code is empty or contains characters a code cannot have.")
		}
	default:
		q.Error = values.Get(paramError)
		if q.Error == "" || !isErrorCode(q.Error) {
			return callbackQuery{}, badRequest("The error is empty or contains characters an OAuth error code cannot have.")
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
	return truncate(strings.TrimSpace(s), maxValueBytes)
}
