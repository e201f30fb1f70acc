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

// Package monitoring_test checks what config/prometheus ships beyond the
// ServiceMonitor: the alerts (rules.yaml) and the Grafana dashboard
// (dashboards/hubspot-operator.json).
//
//   - Every rule is valid for Prometheus: each expression parses with
//     Prometheus's own PromQL parser, and the rule groups load with its rule
//     file loader (rulefmt), which also parses the annotation templates.
//   - The dashboard loads strictly as Grafana's dashboard model (the Grafana
//     Foundation SDK's types, with every panel and query plugin registered).
//   - Every metric the rules and the dashboard query is exported by the real
//     manager binary: the test runs it against a local control plane and the
//     Cloud Elements simulator, drives each path that creates series lazily,
//     scrapes /metrics over HTTP, and looks up every selector of every
//     expression (taken from the PromQL syntax tree): the metric name, the
//     label names it matches on or groups by, and the label values it
//     compares with.
//
// The Helm chart renders the same two files (hack/gen-chart's tests compare
// them with config/), so these checks cover the chart too.
package monitoring_test
