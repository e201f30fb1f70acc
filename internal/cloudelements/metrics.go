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

package cloudelements

import (
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	requestsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cloudelements_requests_total",
		Help: `Requests sent to the Cloud Elements API, by operation and HTTP status code ("error" when no response arrived).`,
	}, []string{"operation", "code"})

	requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "cloudelements_request_duration_seconds",
		Help: "Time from sending a Cloud Elements API request to reading its whole response, by operation.",
		// Up to the default 30 s client timeout.
		Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
	}, []string{"operation"})
)

// Metrics are the request series every client shares, for whoever serves
// metrics to register once. The client registers nothing itself: it knows
// nothing of controller-runtime, or of Kubernetes.
func Metrics() []prometheus.Collector {
	return []prometheus.Collector{requestsTotal, requestDuration}
}

func observe(operation, code string, started time.Time) {
	label := strings.ReplaceAll(operation, " ", "_")
	requestsTotal.WithLabelValues(label, code).Inc()
	requestDuration.WithLabelValues(label).Observe(time.Since(started).Seconds())
}
