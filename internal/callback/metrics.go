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
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Results of a callback, the only values of the `result` label. The set is
// fixed so that a flood of odd requests cannot grow the metric's cardinality.
const (
	resultCodeAccepted   = "code_accepted"   // a code was handed to the reconciler
	resultDeniedRecorded = "denied_recorded" // a refusal of consent was handed to the reconciler
	resultBadMethod      = "bad_method"      // not GET or HEAD
	resultBadRequest     = "bad_request"     // the query is malformed, oversized or ambiguous
	resultMissingState   = "missing_state"   // no state at all
	resultInvalidState   = "invalid_state"   // not a state this operator signed
	resultExpiredState   = "expired_state"   // signed by us, but too old
	resultReplayedState  = "replayed_state"  // used already, or superseded by a newer URL
	resultUnknownObject  = "unknown_object"  // the object the state names is gone or was replaced
	resultNotOAuth2      = "not_oauth2"      // the object no longer uses OAuth2
	resultSecretConflict = "secret_conflict" // the callback Secret's name belongs to someone else
	resultInternalError  = "internal_error"  // the API server failed, or a bug (a recovered panic)
	resultThrottled      = "throttled"       // over the rate limit: 429, nothing looked at
	resultOverloaded     = "overloaded"      // over the concurrency limit: 503, nothing looked at
)

var allResults = []string{
	resultCodeAccepted, resultDeniedRecorded, resultBadMethod, resultBadRequest,
	resultMissingState, resultInvalidState, resultExpiredState, resultReplayedState,
	resultUnknownObject, resultNotOAuth2, resultSecretConflict, resultInternalError,
	resultThrottled, resultOverloaded,
}

var callbacksTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "hubspot_operator_oauth_callbacks_total",
	Help: "OAuth callbacks answered by the operator, by result.",
}, []string{"result"})

func init() {
	metrics.Registry.MustRegister(callbacksTotal)
	// Every result exists from the start, so a rate() or an alert on a
	// result that has not happened yet reads 0 rather than "no data".
	for _, result := range allResults {
		callbacksTotal.WithLabelValues(result)
	}
}
