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

package cloudelements_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	ce "github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
)

func TestClientSideRateLimit(t *testing.T) {
	e := newEnv(t)
	slow := func(secret string) *ce.Client {
		return newClient(t, ce.Options{Endpoint: e.client.Endpoint(), UserSecret: userSecret, OrganizationSecret: secret, QPS: 0.1, Burst: 1})
	}
	first, sameAccount, otherAccount := slow(organizationSecret), slow(organizationSecret), slow("other-org-secret")
	tight := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), 100*time.Millisecond)
	}

	ctx, cancel := tight()
	defer cancel()
	if _, err := first.GetInstance(ctx, 1); !ce.IsNotFound(err) {
		t.Fatalf("the burst should admit the first request: %v", err)
	}

	ctx, cancel = tight()
	defer cancel()
	started := time.Now()
	_, err := sameAccount.GetInstance(ctx, 1)
	if !errors.Is(err, ce.ErrClientRateLimited) || !ce.IsRetryable(err) {
		t.Fatalf("a second client for the same account should share the spent limiter: %v", err)
	}
	if time.Since(started) > 50*time.Millisecond {
		t.Error("a request the limiter cannot admit in time should fail at once, not wait out the deadline")
	}
	if n := e.sim.Total(simulator.OpGet); n != 1 {
		t.Errorf("the simulator saw %d requests; the refused one must not be sent", n)
	}

	ctx, cancel = tight()
	defer cancel()
	if _, err := otherAccount.GetInstance(ctx, 1); !ce.IsUnauthorized(err) {
		t.Errorf("another account has its own limiter: %v", err)
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	notFound := map[string]string{"operation": "get_instance", "code": "404"}
	created := map[string]string{"operation": "create_instance", "code": "200"}
	transport := map[string]string{"operation": "delete_instance", "code": "error"}
	before := [3]float64{counter(t, notFound), counter(t, created), counter(t, transport)}
	durations := histogramCount(t, "get_instance")

	e.create(t, apiKeyRequest("crm"))
	_, _ = e.client.GetInstance(ctx, 999)
	_, _ = e.client.GetInstance(ctx, 998)
	e.server.Close()
	_ = e.client.DeleteInstance(ctx, 1)

	after := [3]float64{counter(t, notFound), counter(t, created), counter(t, transport)}
	if want := [3]float64{before[0] + 2, before[1] + 1, before[2] + 1}; after != want {
		t.Errorf("cloudelements_requests_total = %v, want %v", after, want)
	}
	if got := histogramCount(t, "get_instance"); got != durations+2 {
		t.Errorf("cloudelements_request_duration_seconds count = %d, want %d", got, durations+2)
	}
}

// registry serves the client's series to these tests, as the operator's
// metrics registry serves them in the operator.
var registry = func() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(ce.Metrics()...)
	return r
}()

func family(t *testing.T, name string) *dto.MetricFamily {
	t.Helper()
	families, err := registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name {
			return f
		}
	}
	return nil
}

func labelsMatch(m *dto.Metric, want map[string]string) bool {
	matched := 0
	for _, label := range m.GetLabel() {
		if value, ok := want[label.GetName()]; ok && value == label.GetValue() {
			matched++
		}
	}
	return matched == len(want)
}

func counter(t *testing.T, labels map[string]string) float64 {
	t.Helper()
	for _, m := range family(t, "cloudelements_requests_total").GetMetric() {
		if labelsMatch(m, labels) {
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

func histogramCount(t *testing.T, operation string) uint64 {
	t.Helper()
	for _, m := range family(t, "cloudelements_request_duration_seconds").GetMetric() {
		if labelsMatch(m, map[string]string{"operation": operation}) {
			return m.GetHistogram().GetSampleCount()
		}
	}
	return 0
}
