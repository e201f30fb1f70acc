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

package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// What decides whether make cluster may start (no cluster chains but its
// own) and what its teardown sweeps.
func TestChainsIn(t *testing.T) {
	tests := []struct {
		name        string
		listing     string
		wantCluster []string
		wantOthers  []string
	}{
		{name: "a bare host", listing: "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n",
			wantOthers: []string{"INPUT", "FORWARD", "OUTPUT"}},
		{name: "Docker's chains are not a cluster's",
			listing:    "-P FORWARD DROP\n-N DOCKER\n-N DOCKER-USER\n-A FORWARD -j DOCKER-USER\n",
			wantOthers: []string{"FORWARD", "DOCKER", "DOCKER-USER"}},
		{name: "kube-proxy, the kubelet and a CNI plugin",
			listing: "-P PREROUTING ACCEPT\n-N KUBE-SERVICES\n-N KUBE-KUBELET-CANARY\n-N CNI-4f1d2c\n" +
				"-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n",
			wantCluster: []string{"KUBE-SERVICES", "KUBE-KUBELET-CANARY", "CNI-4f1d2c"},
			wantOthers:  []string{"PREROUTING"}},
		{name: "rules that jump to a cluster chain declare nothing",
			listing:    "-P OUTPUT ACCEPT\n-A OUTPUT -j KUBE-FIREWALL\n",
			wantOthers: []string{"OUTPUT"}},
		{name: "a name that merely contains KUBE", listing: "-N MY-KUBE-RULES\n",
			wantOthers: []string{"MY-KUBE-RULES"}},
		{name: "nothing", listing: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cluster, others := chainsIn(tt.listing)
			if diff := cmp.Diff(tt.wantCluster, cluster); diff != "" {
				t.Errorf("cluster chains (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantOthers, others); diff != "" {
				t.Errorf("other chains (-want +got):\n%s", diff)
			}
		})
	}
}
