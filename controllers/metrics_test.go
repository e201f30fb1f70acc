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
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/apimachinery/pkg/types"
)

// TestConditionCollector: the gauges count what finish remembered, per Ready
// status and reason, and the stalled objects per reason; an object whose
// Stalled condition is gone leaves the stalled gauge.
func TestConditionCollector(t *testing.T) {
	mem := newMemory()
	remember := func(name, ready, reason string, stalled, verified bool) {
		mem.updateKey(types.NamespacedName{Namespace: "team", Name: name}, types.UID(name), func(m *remembered) {
			m.readyStatus, m.readyReason, m.stalled = ready, reason, stalled
			if verified {
				m.verifiedAt = time.Now()
			}
		})
	}
	remember("a", "true", "Available", false, true)
	remember("b", "true", "Available", false, true)
	remember("c", "false", "InstanceDisabled", true, true)
	remember("d", "false", "InvalidConfiguration", true, false)
	remember("e", "false", "InvalidConfiguration", true, false)
	remember("f", "false", "APIUnavailable", false, false)
	remember("g", "", "", false, false) // not reconciled to an end yet

	const want = `
# HELP hubspot_operator_instances HubSpotInstances reconciled by this process, by Ready condition status and reason.
# TYPE hubspot_operator_instances gauge
hubspot_operator_instances{ready="false",reason="APIUnavailable"} 1
hubspot_operator_instances{ready="false",reason="InstanceDisabled"} 1
hubspot_operator_instances{ready="false",reason="InvalidConfiguration"} 2
hubspot_operator_instances{ready="true",reason="Available"} 2
# HELP hubspot_operator_instances_stalled HubSpotInstances reconciled by this process whose Stalled condition is True, by reason.
# TYPE hubspot_operator_instances_stalled gauge
hubspot_operator_instances_stalled{reason="InstanceDisabled"} 1
hubspot_operator_instances_stalled{reason="InvalidConfiguration"} 2
# HELP hubspot_operator_instances_verified HubSpotInstances whose element instance this process has seen at Cloud Elements since it started.
# TYPE hubspot_operator_instances_verified gauge
hubspot_operator_instances_verified 3
`
	if err := testutil.CollectAndCompare(conditionCollector{mem: mem}, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}

	// The disabled instance is enabled again: no longer stalled.
	remember("c", "true", "Available", false, true)
	const stalledAfter = `
# HELP hubspot_operator_instances_stalled HubSpotInstances reconciled by this process whose Stalled condition is True, by reason.
# TYPE hubspot_operator_instances_stalled gauge
hubspot_operator_instances_stalled{reason="InvalidConfiguration"} 2
`
	if err := testutil.CollectAndCompare(conditionCollector{mem: mem}, strings.NewReader(stalledAfter), "hubspot_operator_instances_stalled"); err != nil {
		t.Fatal(err)
	}
}
