package controllers

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// readyDesc counts HubSpotInstances by their Ready status and reason: the
// one gauge that tells an on-call engineer what is wrong, fleet-wide.
var readyDesc = prometheus.NewDesc("hubspot_operator_instances",
	"HubSpotInstances reconciled by this process, by Ready condition status and reason.",
	[]string{"ready", "reason"}, nil)

// conditionCollector reads the reasons from the reconciler's memory at
// scrape time, so reconciles pay nothing for the metric.
type conditionCollector struct{ mem *memory }

func (c conditionCollector) Describe(ch chan<- *prometheus.Desc) { ch <- readyDesc }

func (c conditionCollector) Collect(ch chan<- prometheus.Metric) {
	type key struct{ ready, reason string }
	counts := map[key]int{}
	c.mem.mu.Lock()
	for _, r := range c.mem.objects {
		if r.readyReason != "" {
			counts[key{r.readyStatus, r.readyReason}]++
		}
	}
	c.mem.mu.Unlock()
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(readyDesc, prometheus.GaugeValue, float64(n), k.ready, k.reason)
	}
}

var registerConditionsOnce sync.Once

func registerConditionMetrics(mem *memory) {
	registerConditionsOnce.Do(func() { metrics.Registry.MustRegister(conditionCollector{mem: mem}) })
}
