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
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
)

// floorClient writes what the floor writes: like the operator's client, it
// has no client-side rate limit (controller-runtime's default for a
// kubeconfig is QPS -1, left to API Priority and Fairness).
func (b *bench) floorClient() (client.Client, error) {
	cfg := *b.cp.Config
	cfg.QPS, cfg.Burst = -1, 0
	return client.New(&cfg, client.Options{Scheme: b.c.Scheme()})
}

// runFloor is the least any operator must do to make n API-key objects
// Ready, with the operator's concurrency and client rate limits: workers
// each take an object as soon as its create returns, wait for the Cloud
// Elements limiter, make the one call the mode needs (POST, with the
// simulator's latency) and the three API-server writes one object needs —
// finalizer, token Secret, status — with nothing read back.
func (b *bench) runFloor(ctx context.Context, label, ns string, n int, qps float64, burst int) (*readyRun, error) {
	logf("  %s: the write floor, %d objects, %d workers, Cloud Elements limiter %g/s burst %d", label, n, b.cfg.concurrency, qps, burst)
	if err := b.prepareNamespace(ctx, ns); err != nil {
		return nil, err
	}
	kube, err := b.floorClient()
	if err != nil {
		return nil, err
	}
	api, err := cloudelements.New(cloudelements.Options{Endpoint: b.sim.Endpoint, UserSecret: b.userSecret,
		OrganizationSecret: b.orgSecret, HTTPClient: &http.Client{Timeout: 30 * time.Second},
		Limiter: rate.NewLimiter(rate.Limit(qps), burst)})
	if err != nil {
		return nil, err
	}
	t, err := b.track(ctx, ns, n)
	if err != nil {
		return nil, err
	}
	defer t.stop()

	simBefore := b.sim.Counts()
	apiBefore, err := b.scrapeAPIServer(ctx)
	if err != nil {
		return nil, err
	}
	apiCPU := b.apiServerCPU(ctx)
	created := make(chan *elementsv1alpha1.HubSpotInstance, n)
	var writes atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, b.cfg.concurrency+1)
	start := time.Now()
	for w := 0; w < b.cfg.concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for obj := range created {
				if err := b.floorOne(ctx, kube, api, obj, &writes); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	if err := b.createInstances(ctx, ns, n, nil, t, created); err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case err := <-errs:
		return nil, err
	case <-done:
	}
	last, err := t.wait(ctx, label, b.readyTimeout(n, qps))
	if err != nil {
		return nil, err
	}
	apiAfter, err := b.scrapeAPIServer(ctx)
	if err != nil {
		return nil, err
	}
	run := &readyRun{label: label, n: n, qps: qps, burst: burst, concurrency: b.cfg.concurrency,
		total: last.Sub(start), latencies: t.latencies(),
		ceCalls:  diffCounts(b.sim.Counts(), simBefore),
		api:      apiAfter.minus(apiBefore, "POST hubspotinstances"),
		opWrites: float64(writes.Load()),
		apiCPU:   b.apiServerCPU(ctx) - apiCPU,
	}
	logf("  %s: all %d Ready in %s", label, n, run.total.Round(time.Millisecond))
	return run, nil
}

func (b *bench) floorOne(ctx context.Context, kube client.Client, api *cloudelements.Client,
	obj *elementsv1alpha1.HubSpotInstance, writes *atomic.Int64) error {
	// 1. The finalizer, before anything exists that would need cleaning up.
	fin, _ := json.Marshal(map[string]any{"metadata": map[string]any{"finalizers": []string{elementsv1alpha1.Finalizer}}})
	if err := kube.Patch(ctx, obj, client.RawPatch(types.MergePatchType, fin)); err != nil {
		return fmt.Errorf("floor: finalizer of %s: %w", obj.Name, err)
	}
	writes.Add(1)

	// The one Cloud Elements call of the API-key mode.
	inst, err := api.CreateInstance(ctx, cloudelements.InstanceRequest{
		Element: cloudelements.ElementRef{Key: cloudelements.ElementKey},
		Configuration: map[string]string{
			cloudelements.ConfigAuthenticationType:   cloudelements.AuthenticationTypeAPIKey,
			cloudelements.ConfigHubSpotAPIKey:        "bench-hubspot-api-key",
			cloudelements.ConfigCreateBulkProperties: "false",
		},
		Tags: []string{"bench", obj.OwnerTag()},
		Name: obj.ElementInstanceName(),
	})
	if err != nil {
		return fmt.Errorf("floor: creating the instance of %s: %w", obj.Name, err)
	}

	// 2. The token Secret, as the operator writes it.
	isController := true
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: obj.Namespace, Name: obj.TokenSecretName(),
			Labels: map[string]string{elementsv1alpha1.ManagedByLabel: elementsv1alpha1.FieldManager, elementsv1alpha1.InstanceLabel: obj.Name},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: elementsv1alpha1.GroupVersion.String(), Kind: "HubSpotInstance",
				Name: obj.Name, UID: obj.UID, Controller: &isController, BlockOwnerDeletion: &isController}}},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{
			elementsv1alpha1.TokenKey:      []byte(inst.Token),
			elementsv1alpha1.InstanceIDKey: []byte(strconv.FormatInt(inst.ID, 10)),
			elementsv1alpha1.ElementKeyKey: []byte(cloudelements.ElementKey),
			elementsv1alpha1.EndpointKey:   []byte(b.sim.Endpoint),
		},
	}
	if err := kube.Create(ctx, secret); err != nil {
		return fmt.Errorf("floor: token Secret of %s: %w", obj.Name, err)
	}
	writes.Add(1)

	// 3. Status: Ready, with what the operator reports.
	now := metav1.Now()
	status := elementsv1alpha1.HubSpotInstanceStatus{
		ObservedGeneration: obj.Generation,
		Conditions: []metav1.Condition{{Type: elementsv1alpha1.ConditionReady, Status: metav1.ConditionTrue,
			Reason: elementsv1alpha1.ReasonAvailable, ObservedGeneration: obj.Generation, LastTransitionTime: now,
			Message: "element instance " + strconv.FormatInt(inst.ID, 10) + " is valid and its token is in Secret " + secret.Name}},
		InstanceID: inst.ID, InstanceName: obj.ElementInstanceName(), Valid: inst.Valid,
		TokenSecretName: secret.Name, AppliedConfigurationHash: "sha256:floor", LastSyncTime: &now,
	}
	body, _ := json.Marshal(map[string]any{"status": status})
	if err := kube.Status().Patch(ctx, obj, client.RawPatch(types.MergePatchType, body)); err != nil {
		return fmt.Errorf("floor: status of %s: %w", obj.Name, err)
	}
	writes.Add(1)
	return nil
}

func diffCounts(after, before map[string]map[int]int) map[string]int {
	out := map[string]int{}
	for op, byCode := range after {
		for code, n := range byCode {
			if d := n - before[op][code]; d > 0 {
				out[op] += d
			}
		}
	}
	return out
}
