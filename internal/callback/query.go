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

	"github.com/hubspot-operator/hubspot-operator/internal/callback/authresponse"
)

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

// parseCallbackQuery reads the authorization response and says why it
// refuses one that is not well-formed.
func parseCallbackQuery(rawQuery string) (authresponse.Response, *refusal) {
	query, malformed := authresponse.Parse(rawQuery)
	switch {
	case malformed == nil:
		return query, nil
	case malformed.MissingState:
		return query, &refusal{status: http.StatusBadRequest, result: resultMissingState, reason: malformed.Reason}
	default:
		return query, badRequest(malformed.Reason)
	}
}
