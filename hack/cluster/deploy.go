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
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// simulatorSecret holds the account secrets the simulator accepts.
const simulatorSecret = "simulator-account"

// deploy installs the simulator, the operator (helm install) and the
// API-key sample.
func (c *cluster) deploy(ctx context.Context) error {
	start := time.Now()
	for _, ns := range []string{operatorNamespace, simulatorNamespace, samplesNamespace} {
		if err := c.apply(ctx, `apiVersion: v1
kind: Namespace
metadata:
  name: `+ns+`
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/warn: restricted
`); err != nil {
			return err
		}
	}
	user, org := randomHex(16), randomHex(16)
	if err := c.apply(ctx, `apiVersion: v1
kind: Secret
metadata: {name: `+simulatorSecret+`, namespace: `+simulatorNamespace+`}
stringData: {user-secret: `+user+`, organization-secret: `+org+`}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cloud-elements-simulator, namespace: `+simulatorNamespace+`}
spec:
  replicas: 1
  selector: {matchLabels: {app: cloud-elements-simulator}}
  template:
    metadata: {labels: {app: cloud-elements-simulator}}
    spec:
      automountServiceAccountToken: false
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: simulator
        image: `+simulatorImage+`
        imagePullPolicy: Never
        args: ["--listen=:`+itoa(simulatorPort)+`", "--seed=1"]
        env:
        - name: SIMULATOR_USER_SECRET
          valueFrom: {secretKeyRef: {name: `+simulatorSecret+`, key: user-secret}}
        - name: SIMULATOR_ORGANIZATION_SECRET
          valueFrom: {secretKeyRef: {name: `+simulatorSecret+`, key: organization-secret}}
        ports: [{name: http, containerPort: `+itoa(simulatorPort)+`}]
        readinessProbe: {tcpSocket: {port: http}, periodSeconds: 2}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {drop: [ALL]}
---
apiVersion: v1
kind: Service
metadata: {name: cloud-elements-simulator, namespace: `+simulatorNamespace+`}
spec:
  selector: {app: cloud-elements-simulator}
  ports: [{name: http, port: `+itoa(simulatorPort)+`, targetPort: http}]
`); err != nil {
		return err
	}

	helm, err := runCmd(ctx, nil, "go", "-C", c.root, "tool", "-n", "helm")
	if err != nil {
		return err
	}
	c.p.step("helm install %s charts/hubspot-operator -n %s (2 replicas, leader election, NetworkPolicy)…", helmRelease, operatorNamespace)
	args := append([]string{"install", helmRelease, filepath.Join(c.root, "charts", "hubspot-operator"),
		"--kubeconfig", c.admin, "-n", operatorNamespace, "--wait", "--timeout", c.opts.timeout.String()}, HelmValues()...)
	if _, err := runCmd(ctx, nil, strings.TrimSpace(helm), args...); err != nil {
		return fmt.Errorf("%w\n%s", err, c.podSummary(ctx))
	}
	if _, err := c.kubectl(ctx, nil, "rollout", "status", "-n", simulatorNamespace, "deployment/cloud-elements-simulator", "--timeout", c.opts.timeout.String()); err != nil {
		return fmt.Errorf("%w\n%s", err, c.podSummary(ctx))
	}
	c.p.step("operator and simulator Pods Ready (%.1fs):", time.Since(start).Seconds())
	for _, l := range strings.Split(strings.TrimSpace(c.podSummary(ctx)), "\n") {
		c.p.detail("%s", l)
	}

	if err := c.apply(ctx, `apiVersion: v1
kind: Secret
metadata: {name: cloud-elements, namespace: `+samplesNamespace+`}
stringData: {user-secret: `+user+`, organization-secret: `+org+`}
`); err != nil {
		return err
	}
	sample, err := os.ReadFile(filepath.Join(c.root, "config", "samples", "elements_v1alpha1_hubspotinstance_apikey.yaml"))
	if err != nil {
		return err
	}
	manifest := strings.ReplaceAll(string(sample), "REPLACE-WITH-HUBSPOT-API-KEY", "sample-hubspot-api-key")
	manifest = strings.Replace(manifest, "    credentialsSecretRef:", "    endpoint: "+SimulatorEndpoint+"\n    credentialsSecretRef:", 1)
	if _, err := c.kubectl(ctx, []byte(manifest), "apply", "--server-side", "--field-manager=hubspot-operator-cluster", "-n", samplesNamespace, "-f", "-"); err != nil {
		return err
	}
	if _, err := c.kubectl(ctx, nil, "wait", "-n", samplesNamespace, "hubspotinstance/support-crm", "--for=condition=Ready", "--timeout", c.opts.timeout.String()); err != nil {
		status, _ := c.kubectl(ctx, nil, "get", "-n", samplesNamespace, "hubspotinstance/support-crm", "-o", "jsonpath={.status.conditions}")
		return fmt.Errorf("%w: %s", err, status)
	}
	c.p.step("sample %s/support-crm Ready: its token is in Secret support-crm-element-token", samplesNamespace)

	// The kubeconfig for users, self-contained so that it can be copied.
	out, err := c.kubectl(ctx, nil, "config", "view", "--raw", "--flatten")
	if err != nil {
		return err
	}
	path := c.opts.kubeconfigOut
	_ = os.Remove(path)
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		return err
	}
	c.onCleanup("removed "+path, func() error { return os.Remove(path) })
	return nil
}

// SimulatorEndpoint is the simulator's API as Pods reach it.
const SimulatorEndpoint = "http://cloud-elements-simulator.cloud-elements-simulator.svc:8090/elements/api-v2"

// HelmValues are the chart values of the operator on this cluster: two
// replicas (one leader), the simulator as the only endpoint it may send
// credentials to, over plain http inside the cluster.
func HelmValues() []string {
	return []string{
		"--set", "replicaCount=2",
		"--set", "networkPolicy.enabled=true",
		"--set", "cloudElements.allowedEndpointHosts={cloud-elements-simulator.cloud-elements-simulator.svc}",
		"--set", "extraArgs={--allow-insecure-endpoints}",
	}
}

func (c *cluster) podSummary(ctx context.Context) string {
	out, _ := c.kubectl(ctx, nil, "get", "pods", "-A", "-o", "wide")
	return out
}
