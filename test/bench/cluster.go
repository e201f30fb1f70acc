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
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

// Names of the input Secrets every bench namespace holds.
const (
	credentialsSecret = "cloud-elements"
	apiKeySecret      = "hubspot-key"
	apiKeyKey         = "api-key"
)

// prepareNamespace creates a namespace with the Secrets an API-key
// HubSpotInstance reads.
func (b *bench) prepareNamespace(ctx context.Context, ns string) error {
	if err := b.c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", ns, err)
	}
	for _, s := range []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: credentialsSecret},
			Data: map[string][]byte{"user-secret": []byte(b.userSecret), "organization-secret": []byte(b.orgSecret)}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: apiKeySecret},
			Data: map[string][]byte{apiKeyKey: []byte("bench-hubspot-api-key")}},
	} {
		if err := b.c.Create(ctx, s); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating Secret %s/%s: %w", ns, s.Name, err)
		}
	}
	return nil
}

// instance is an API-key HubSpotInstance pointed at the simulator, as in
// controllers/helpers_test.go. A nil poll keeps the operator's default (10m).
func (b *bench) instance(ns, name string, poll *metav1.Duration) *elementsv1alpha1.HubSpotInstance {
	return &elementsv1alpha1.HubSpotInstance{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: elementsv1alpha1.HubSpotInstanceSpec{
			Platform: elementsv1alpha1.PlatformSpec{
				Endpoint:             elementsv1alpha1.HTTPURL(b.sim.Endpoint),
				CredentialsSecretRef: elementsv1alpha1.CredentialsSecretRef{Name: credentialsSecret},
			},
			Tags: []string{"bench"},
			Auth: elementsv1alpha1.AuthSpec{Type: elementsv1alpha1.AuthTypeAPIKey,
				APIKey: &elementsv1alpha1.APIKeyAuth{SecretRef: elementsv1alpha1.SecretKeySelector{Name: apiKeySecret, Key: apiKeyKey}}},
			PollInterval: poll,
		},
	}
}

// createInstances creates n objects at once with several goroutines, telling
// the tracker when each create returned, and handing each created object to
// out (when not nil; out is closed at the end). It returns when all are
// created; start is when the first create was sent.
func (b *bench) createInstances(ctx context.Context, ns string, n int, poll *metav1.Duration, t *tracker,
	out chan<- *elementsv1alpha1.HubSpotInstance) error {
	if out != nil {
		defer close(out)
	}
	jobs := make(chan int)
	errs := make(chan error, b.cfg.createWorkers)
	var wg sync.WaitGroup
	for w := 0; w < b.cfg.createWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				obj := b.instance(ns, fmt.Sprintf("hsi-%05d", i), poll)
				var err error
				for attempt := 0; attempt < 5; attempt++ {
					if err = b.c.Create(ctx, obj); err == nil || apierrors.IsAlreadyExists(err) || ctx.Err() != nil {
						break
					}
					time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
				}
				if err != nil {
					errs <- fmt.Errorf("creating %s/%s: %w", ns, obj.Name, err)
					return
				}
				t.created(obj.Name, time.Now())
				if out != nil {
					out <- obj
				}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for i := 0; i < n; i++ {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			case err := <-errs:
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return ctx.Err()
	}
}

// cleanup removes every HubSpotInstance (finalizers stripped: no operator
// runs now), their element instances in the simulator, and every Secret of a namespace (the credentials-in-use
// finalizer stripped too), so that later operators neither manage nor cache
// them. Done by hand rather than by deleting the namespace: it is reused.
func (b *bench) cleanup(ctx context.Context, ns string) error {
	var list elementsv1alpha1.HubSpotInstanceList
	if err := b.c.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return err
	}
	jobs := make(chan *elementsv1alpha1.HubSpotInstance)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for w := 0; w < b.cfg.createWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for obj := range jobs {
				var err error
				if len(obj.Finalizers) > 0 {
					err = b.c.Patch(ctx, obj, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`)))
				}
				if err == nil {
					err = b.c.Delete(ctx, obj)
				}
				if err = client.IgnoreNotFound(err); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("deleting %s/%s: %w", ns, obj.Name, err)
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range list.Items {
		jobs <- &list.Items[i]
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	// Their instances go too: every phase shares one Cloud Elements account,
	// and a listing of the next phase must page through its own instances only.
	prefix := elementsv1alpha1.OwnerTagNamespacePrefix(ns)
	for _, inst := range b.sim.Instances() {
		if slices.ContainsFunc(inst.Tags, func(t string) bool { return strings.HasPrefix(t, prefix) }) {
			_ = b.sim.Remove(inst.ID)
		}
	}
	var secrets corev1.SecretList
	if err := b.c.List(ctx, &secrets, client.InNamespace(ns)); err != nil {
		return err
	}
	for i := range secrets.Items {
		if sec := &secrets.Items[i]; len(sec.Finalizers) > 0 {
			if err := b.c.Patch(ctx, sec, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`))); client.IgnoreNotFound(err) != nil {
				return fmt.Errorf("releasing Secret %s/%s: %w", ns, sec.Name, err)
			}
		}
	}
	if err := b.c.DeleteAllOf(ctx, &corev1.Secret{}, client.InNamespace(ns)); err != nil {
		return err
	}
	return b.quiesce(ctx)
}

// quiesce waits until kube-apiserver serves nobody: the garbage collector
// goes through the dependents of every deleted object (token Secrets) at
// its own pace, and after thousands of objects it would still be at it,
// on the same CPUs, during the next phase.
func (b *bench) quiesce(ctx context.Context) error {
	start := time.Now()
	before, err := b.scrapeAPIServer(ctx)
	if err != nil {
		return err
	}
	for time.Since(start) < time.Minute {
		select {
		case <-time.After(2 * time.Second):
		case <-ctx.Done():
			return ctx.Err()
		}
		after, err := b.scrapeAPIServer(ctx)
		if err != nil {
			return err
		}
		if after.minus(before).requests().operators().total() <= 2 {
			if waited := time.Since(start); waited > 3*time.Second {
				logf("  the control plane went quiet %s after the cleanup", waited.Round(time.Second))
			}
			return nil
		}
		before = after
	}
	logf("  the control plane was still busy a minute after the cleanup; going on")
	return nil
}

// apiServerCPU is the CPU time kube-apiserver has used, in seconds.
func (b *bench) apiServerCPU(ctx context.Context) float64 {
	hc, err := rest.HTTPClientFor(b.cp.Config)
	if err != nil {
		return 0
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(b.cp.Config.Host, "/")+"/metrics", nil)
	if err != nil {
		return 0
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	scanner := bufio.NewScanner(resp.Body)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		if v, ok := strings.CutPrefix(scanner.Text(), "process_cpu_seconds_total "); ok {
			var cpu float64
			if _, err := fmt.Sscan(v, &cpu); err == nil {
				return cpu
			}
		}
	}
	return 0
}

// createUnrelatedSecrets fills a namespace with Secrets the operator has no
// business with, of size bytes each (random, so nothing compresses).
func (b *bench) createUnrelatedSecrets(ctx context.Context, ns string, count, size int) error {
	if err := b.c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	workers := 2 * b.cfg.createWorkers
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data := make([]byte, size)
			for i := range jobs {
				_, _ = rand.Read(data)
				s := &corev1.Secret{
					ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("unrelated-%05d", i),
						Labels: map[string]string{"app.kubernetes.io/name": "unrelated", "bench": "memory"}},
					Type: corev1.SecretTypeOpaque,
					Data: map[string][]byte{"blob": data},
				}
				var err error
				for attempt := 0; attempt < 5; attempt++ {
					if err = b.c.Create(ctx, s); err == nil || apierrors.IsAlreadyExists(err) || ctx.Err() != nil {
						err = nil
						break
					}
					time.Sleep(time.Duration(attempt+1) * 500 * time.Millisecond)
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < count && ctx.Err() == nil; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// apiCounts is a snapshot of kube-apiserver's apiserver_request_total,
// keyed "VERB resource[/subresource]" (all clients: the bench knows which of
// them are its own). Requests for no resource (/metrics, /healthz) and
// kube-apiserver's own identity Lease renewals are left out.
type apiCounts map[string]float64

var writeVerbs = map[string]bool{"POST": true, "PUT": true, "PATCH": true, "APPLY": true, "DELETE": true, "DELETECOLLECTION": true}

func (b *bench) scrapeAPIServer(ctx context.Context) (apiCounts, error) {
	hc, err := rest.HTTPClientFor(b.cp.Config)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(b.cp.Config.Host, "/")+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("kube-apiserver /metrics: %s", resp.Status)
	}
	out := apiCounts{}
	scanner := bufio.NewScanner(resp.Body)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	const prefix = "apiserver_request_total{"
	for scanner.Scan() {
		line := scanner.Text()
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		var v float64
		if _, err := fmt.Sscan(line[i+1:], &v); err != nil {
			continue
		}
		labels := line[len(prefix):i]
		verb := label(labels, "verb")
		// kube-apiserver renews its own identity Lease every 10 s; the
		// operator runs without leader election and writes no Lease.
		if resource := label(labels, "resource"); resource == "" || resource == "leases" {
			continue
		}
		key := verb + " " + label(labels, "resource")
		if sub := label(labels, "subresource"); sub != "" {
			key += "/" + sub
		}
		out[key] += v
	}
	return out, scanner.Err()
}

// label extracts name="value" from a Prometheus label set (without braces).
func label(labels, name string) string {
	for labels != "" {
		eq := strings.Index(labels, `="`)
		if eq < 0 {
			return ""
		}
		key, tail := labels[:eq], labels[eq+2:]
		end := strings.IndexByte(tail, '"')
		for end > 0 && tail[end-1] == '\\' { // an escaped quote
			next := strings.IndexByte(tail[end+1:], '"')
			if next < 0 {
				return ""
			}
			end += next + 1
		}
		if end < 0 {
			return ""
		}
		if key == name {
			return tail[:end]
		}
		labels = strings.TrimPrefix(tail[end+1:], ",")
	}
	return ""
}

// minus is what happened between two snapshots, without the bench's own
// requests (exclude, e.g. "POST hubspotinstances").
func (a apiCounts) minus(before apiCounts, exclude ...string) apiCounts {
	out := apiCounts{}
	for k, v := range a {
		if d := v - before[k]; d > 0 {
			out[k] = d
		}
	}
	for _, k := range exclude {
		delete(out, k)
	}
	return out
}

// where keeps the entries whose verb passes keep.
func (a apiCounts) where(keep func(verb string) bool) apiCounts {
	out := apiCounts{}
	for k, v := range a {
		if verb, _, _ := strings.Cut(k, " "); keep(verb) {
			out[k] = v
		}
	}
	return out
}

func (a apiCounts) writes() apiCounts { return a.where(func(v string) bool { return writeVerbs[v] }) }

// requests are reads and writes: all but the WATCH verb, which kube-apiserver
// counts when a watch ends, long after it was asked for.
func (a apiCounts) requests() apiCounts { return a.where(func(v string) bool { return v != "WATCH" }) }

// operators keeps what concerns the operator's resources, leaving out
// kube-apiserver's own upkeep (its endpoints, for one).
func (a apiCounts) operators() apiCounts {
	out := apiCounts{}
	for k, v := range a {
		_, resource, _ := strings.Cut(k, " ")
		resource, _, _ = strings.Cut(resource, "/")
		if resource == "hubspotinstances" || resource == "secrets" || resource == "events" {
			out[k] = v
		}
	}
	return out
}

func (a apiCounts) total() float64 {
	t := 0.0
	for _, v := range a {
		t += v
	}
	return t
}
