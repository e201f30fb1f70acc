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
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
)

// The Cloud Elements client's request series are served beside the
// reconciler's: once per process, as the client shares them across clients.
func init() {
	metrics.Registry.MustRegister(cloudelements.Metrics()...)
}

// readyDesc counts HubSpotInstances by their Ready status and reason: the
// one gauge that tells an on-call engineer what is wrong, fleet-wide.
var readyDesc = prometheus.NewDesc("hubspot_operator_instances",
	"HubSpotInstances reconciled by this process, by Ready condition status and reason.",
	[]string{"ready", "reason"}, nil)

// stalledDesc counts HubSpotInstances whose Stalled condition is True, by
// reason: the objects that retrying cannot fix, which wait for a person
// (the kstatus Failed state). Ready=False alone cannot tell them from objects
// that are still working or retrying.
var stalledDesc = prometheus.NewDesc("hubspot_operator_instances_stalled",
	"HubSpotInstances reconciled by this process whose Stalled condition is True, by reason.",
	[]string{"reason"}, nil)

// verifiedDesc says how far a restart has got: the memory of what each
// instance looked like is in process only, so after a restart this climbs
// back to the number of objects as listings (or calls) see each instance.
var verifiedDesc = prometheus.NewDesc("hubspot_operator_instances_verified",
	"HubSpotInstances whose element instance this process has seen at Cloud Elements since it started.", nil, nil)

// conditionCollector reads the reasons from the reconciler's memory at
// scrape time, so reconciles pay nothing for the metric.
type conditionCollector struct{ mem *memory }

func (c conditionCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- readyDesc
	ch <- stalledDesc
	ch <- verifiedDesc
}

func (c conditionCollector) Collect(ch chan<- prometheus.Metric) {
	type key struct{ ready, reason string }
	counts := map[key]int{}
	stalled := map[string]int{}
	verified := 0
	c.mem.mu.Lock()
	for _, r := range c.mem.objects {
		if r.readyReason != "" {
			counts[key{r.readyStatus, r.readyReason}]++
		}
		if r.stalled {
			stalled[r.readyReason]++
		}
		if !r.verifiedAt.IsZero() {
			verified++
		}
	}
	c.mem.mu.Unlock()
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(readyDesc, prometheus.GaugeValue, float64(n), k.ready, k.reason)
	}
	for reason, n := range stalled {
		ch <- prometheus.MustNewConstMetric(stalledDesc, prometheus.GaugeValue, float64(n), reason)
	}
	ch <- prometheus.MustNewConstMetric(verifiedDesc, prometheus.GaugeValue, float64(verified))
}

var registerConditionsOnce sync.Once

func registerConditionMetrics(mem *memory) {
	registerConditionsOnce.Do(func() { metrics.Registry.MustRegister(conditionCollector{mem: mem}) })
}
