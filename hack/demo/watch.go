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
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

// errNotReady: some object was not Ready within --timeout.
var errNotReady = errors.New("not every HubSpotInstance became Ready within --timeout")

// Poll intervals: brisk while converging, relaxed once everything is Ready.
const (
	convergePoll = 250 * time.Millisecond
	followPoll   = time.Second
	// consentRetry spaces attempts when the callback server did not answer.
	consentRetry = 5 * time.Second
	// messageWidth clips condition messages in the narration.
	messageWidth = 160
)

// readyState is what the narration reports a change of.
type readyState struct{ status, reason string }

// tracker polls the HubSpotInstances, narrates their Ready transitions and
// plays the person who consents to OAuth 2 authorization requests.
type tracker struct {
	d *demo
	p *printer

	states map[types.NamespacedName]readyState
	// handled is the authorization nonce last acted on, per object.
	handled map[types.NamespacedName]string
	retryAt map[types.NamespacedName]time.Time
	// autoConsent follows consent links through the simulator's
	// consent page; once the demo is ready it only prints them.
	autoConsent bool
	listErr     string

	bulkReady   int
	bulkPrinted time.Time
	bulkDone    bool
}

func newTracker(d *demo) *tracker {
	return &tracker{d: d, p: d.p, autoConsent: true,
		states:  map[types.NamespacedName]readyState{},
		handled: map[types.NamespacedName]string{},
		retryAt: map[types.NamespacedName]time.Time{},
	}
}

// isReady: Ready=True for the object's current generation.
func isReady(obj *elementsv1alpha1.HubSpotInstance) bool {
	c := meta.FindStatusCondition(obj.Status.Conditions, elementsv1alpha1.ConditionReady)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == obj.Generation
}

// poll lists every HubSpotInstance and narrates what changed.
func (t *tracker) poll(ctx context.Context) ([]elementsv1alpha1.HubSpotInstance, error) {
	var list elementsv1alpha1.HubSpotInstanceList
	if err := t.d.client.List(ctx, &list); err != nil {
		return nil, err
	}
	items := list.Items
	sort.Slice(items, func(i, j int) bool {
		if items[i].Namespace != items[j].Namespace {
			return items[i].Namespace < items[j].Namespace
		}
		return items[i].Name < items[j].Name
	})
	seen := map[types.NamespacedName]bool{}
	bulkReady := 0
	for i := range items {
		obj := &items[i]
		if t.d.isBulk(obj) {
			if isReady(obj) {
				bulkReady++
			}
			continue
		}
		key := client.ObjectKeyFromObject(obj)
		seen[key] = true
		status, reason, message := readyCondition(obj)
		if status == "" {
			continue // not reconciled yet
		}
		if now := (readyState{status, reason}); t.states[key] != now {
			t.states[key] = now
			t.p.step("%s: Ready=%s %s — %s", key, status, reason, clipText(message, messageWidth))
		}
		t.handleAuthorization(ctx, obj)
	}
	for key := range t.states {
		if !seen[key] {
			delete(t.states, key)
			delete(t.handled, key)
			t.p.step("%s: deleted", key)
		}
	}
	t.trackBulk(bulkReady)
	return items, nil
}

// handleAuthorization acts once per published consent link. Status only
// names the Secret that holds the link; the demo reads it as its
// cluster-admin, exactly as the condition message tells a person to.
func (t *tracker) handleAuthorization(ctx context.Context, obj *elementsv1alpha1.HubSpotInstance) {
	st := obj.Status
	if obj.Spec.Auth.Type != elementsv1alpha1.AuthTypeOAuth2 || st.AuthorizationSecretName == "" || st.AuthorizationNonce == "" {
		return
	}
	if _, reason, _ := readyCondition(obj); reason != elementsv1alpha1.ReasonAwaitingAuthorization &&
		reason != elementsv1alpha1.ReasonReauthorizationRequired {
		return
	}
	key := client.ObjectKeyFromObject(obj)
	if t.handled[key] == st.AuthorizationNonce || time.Now().Before(t.retryAt[key]) {
		return
	}
	link, ok := t.consentLink(ctx, obj)
	if !ok {
		return // not written yet, or already replaced: the next poll sees more
	}
	t.handled[key] = st.AuthorizationNonce
	if !t.autoConsent {
		t.p.step("%s: waits for consent; open this link from Secret %s in a browser (the simulator's consent page asks to Allow or Deny):", key, st.AuthorizationSecretName)
		t.p.detail("%s", link)
		return
	}
	t.p.step("%s: consent link published in Secret %s (%s):", key, st.AuthorizationSecretName, consentCommand(obj))
	t.p.detail("%s", link)
	t.p.step("%s: opening it as a browser would; the simulator's consent page stands in for a person clicking \"Allow\" in HubSpot", key)
	if !t.consent(ctx, link) {
		// Nothing reached the operator: try the same link again shortly.
		delete(t.handled, key)
		t.retryAt[key] = time.Now().Add(consentRetry)
	}
}

// consentLink reads the link that status names from its Secret; ok is false
// while the Secret does not hold that very link.
func (t *tracker) consentLink(ctx context.Context, obj *elementsv1alpha1.HubSpotInstance) (string, bool) {
	sec := &corev1.Secret{}
	key := client.ObjectKey{Namespace: obj.Namespace, Name: obj.Status.AuthorizationSecretName}
	if err := t.d.client.Get(ctx, key, sec); err != nil {
		return "", false
	}
	link := string(sec.Data[elementsv1alpha1.AuthorizationURLKey])
	if link == "" || sec.Annotations[elementsv1alpha1.AuthorizationNonceAnnotation] != obj.Status.AuthorizationNonce {
		return "", false
	}
	return link, true
}

// consentCommand is the command the condition message gives a person.
func consentCommand(obj *elementsv1alpha1.HubSpotInstance) string {
	return fmt.Sprintf("kubectl get secret %s -n %s -o jsonpath='{.data.%s}' | base64 -d",
		obj.Status.AuthorizationSecretName, obj.Namespace, elementsv1alpha1.AuthorizationURLKey)
}

var titlePattern = regexp.MustCompile(`(?s)<title>(.*?)</title>`)

// consent GETs the consent link and follows the redirect to the
// operator's callback, printing each hop (query values hidden: the callback
// URL carries the authorization code). It reports whether the callback
// server answered at all.
func (t *tracker) consent(ctx context.Context, authorizationURL string) bool {
	hc := &http.Client{
		Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("stopped after 5 redirects")
			}
			if req.Response != nil {
				t.p.detail("GET %s → %s", redactQuery(via[len(via)-1].URL), req.Response.Status)
			}
			return nil
		},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authorizationURL, nil)
	if err != nil {
		t.p.detail("the consent link is not usable: %v", err)
		return true
	}
	resp, err := hc.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			where, _ := url.Parse(uerr.URL)
			t.p.detail("GET %s failed: %v", redactQuery(where), uerr.Err)
		} else {
			t.p.detail("GET failed: %v", err)
		}
		t.p.detail("(retrying in %s: is the operator's OAuth callback server listening on %s?)", consentRetry, t.d.callbackAddr)
		return false
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 256<<10))
	title := ""
	if m := titlePattern.FindSubmatch(body); m != nil {
		title = strings.TrimSuffix(html.UnescapeString(strings.TrimSpace(string(m[1]))), " · hubspot-operator")
	}
	outcome := resp.Status
	if title != "" {
		outcome += ": page says \"" + title + "\""
	}
	t.p.detail("GET %s → %s", redactQuery(resp.Request.URL), outcome)
	if resp.StatusCode != http.StatusOK {
		t.p.detail("the operator's callback refused this authorization response; see its log: %s", t.d.operatorLog)
	}
	return true
}

// trackBulk narrates the bulk objects' convergence, at most once a second.
func (t *tracker) trackBulk(ready int) {
	total := len(t.d.bulk)
	if total == 0 || ready == t.bulkReady {
		return
	}
	now := time.Now()
	switch {
	case ready == total && !t.bulkDone:
		t.bulkDone = true
		t.p.step("bulk: all %d Ready, %s after they were applied", total, seconds(now.Sub(t.d.bulkAppliedAt)))
	case ready != total && now.Sub(t.bulkPrinted) < time.Second:
		return // printed later, if still different
	default:
		t.p.step("bulk: %d/%d Ready", ready, total)
	}
	t.bulkReady, t.bulkPrinted = ready, now
}

func (t *tracker) expected() []types.NamespacedName {
	return append(append([]types.NamespacedName{}, t.d.samples...), t.d.bulk...)
}

// notReady lists the expected objects that are not Ready.
func (t *tracker) notReady(items []elementsv1alpha1.HubSpotInstance) []types.NamespacedName {
	byKey := make(map[types.NamespacedName]*elementsv1alpha1.HubSpotInstance, len(items))
	for i := range items {
		byKey[client.ObjectKeyFromObject(&items[i])] = &items[i]
	}
	var out []types.NamespacedName
	for _, key := range t.expected() {
		if obj := byKey[key]; obj == nil || !isReady(obj) {
			out = append(out, key)
		}
	}
	return out
}

// waitReady polls until every expected object is Ready, the deadline (if
// any) passes, the operator stops, or ctx ends.
func (t *tracker) waitReady(ctx context.Context, deadline time.Time) ([]elementsv1alpha1.HubSpotInstance, error) {
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		timer := time.NewTimer(time.Until(deadline))
		defer timer.Stop()
		timeout = timer.C
	}
	tick := time.NewTicker(convergePoll)
	defer tick.Stop()
	var last []elementsv1alpha1.HubSpotInstance
	for {
		items, err := t.poll(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return last, ctx.Err()
		case err != nil:
			if msg := err.Error(); msg != t.listErr {
				t.listErr = msg
				t.p.step("listing HubSpotInstances failed (retrying): %v", err)
			}
		default:
			last = items
			if len(t.notReady(items)) == 0 {
				what := fmt.Sprintf("all %d samples", len(t.d.samples))
				if n := len(t.d.bulk); n > 0 {
					what += fmt.Sprintf(" and %d bulk objects", n)
				}
				t.p.step("%s Ready, %s after they were applied", what, seconds(time.Since(t.d.appliedAt)))
				return items, nil
			}
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-t.d.managerStopped:
			return last, fmt.Errorf("the operator stopped unexpectedly: %v", t.d.managerErr)
		case <-timeout:
			return last, errNotReady
		case <-tick.C:
		}
	}
}

// reportNotReady says which objects missed the deadline, and why.
func (t *tracker) reportNotReady(items []elementsv1alpha1.HubSpotInstance) {
	byKey := make(map[types.NamespacedName]*elementsv1alpha1.HubSpotInstance, len(items))
	for i := range items {
		byKey[client.ObjectKeyFromObject(&items[i])] = &items[i]
	}
	missing := t.notReady(items)
	t.p.step("NOT READY after %s (--timeout): %d of %d objects", t.d.opts.timeout, len(missing), len(t.expected()))
	const maxListed = 10
	for i, key := range missing {
		if i == maxListed {
			t.p.detail("… and %d more", len(missing)-maxListed)
			break
		}
		obj := byKey[key]
		if obj == nil {
			t.p.detail("%s: does not exist", key)
			continue
		}
		switch status, reason, message := readyCondition(obj); {
		case status == "":
			t.p.detail("%s: never reconciled (no Ready condition)", key)
		case status == string(metav1.ConditionTrue):
			t.p.detail("%s: Ready=True, but for generation %d, not %d", key,
				meta.FindStatusCondition(obj.Status.Conditions, elementsv1alpha1.ConditionReady).ObservedGeneration, obj.Generation)
		default:
			t.p.detail("%s: Ready=%s %s — %s", key, status, reason, message)
		}
	}
}

// follow keeps narrating until ctx ends; consent links are printed for
// a person to open rather than followed.
func (t *tracker) follow(ctx context.Context) error {
	t.autoConsent = false
	tick := time.NewTicker(followPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.d.managerStopped:
			return fmt.Errorf("the operator stopped unexpectedly: %v", t.d.managerErr)
		case <-tick.C:
		}
		if _, err := t.poll(ctx); err != nil && ctx.Err() == nil {
			if msg := err.Error(); msg != t.listErr {
				t.listErr = msg
				t.p.step("listing HubSpotInstances failed (retrying): %v", err)
			}
		}
	}
}

// report prints the table, the token Secrets and the machine-readable lines.
func (d *demo) report(ctx context.Context, items []elementsv1alpha1.HubSpotInstance) error {
	d.p.step("the simulator holds %d element instances", len(d.sim.Instances()))
	d.p.plain("")
	d.printTable(items)
	d.p.plain("")
	d.p.plain("Token Secrets (what workloads read; every secret value masked but for its last 4 characters):")
	byKey := make(map[types.NamespacedName]*elementsv1alpha1.HubSpotInstance, len(items))
	for i := range items {
		byKey[client.ObjectKeyFromObject(&items[i])] = &items[i]
	}
	for _, key := range d.samples {
		obj := byKey[key]
		name := obj.Status.TokenSecretName
		if name == "" {
			name = obj.TokenSecretName()
		}
		sec := &corev1.Secret{}
		if err := d.client.Get(ctx, types.NamespacedName{Namespace: obj.Namespace, Name: name}, sec); err != nil {
			return fmt.Errorf("reading token Secret %s/%s: %w", obj.Namespace, name, err)
		}
		d.printTokenSecret(sec, obj)
	}
	if n := len(d.bulk); n > 0 {
		d.p.plain("  … and %d bulk-*-element-token Secrets", n)
	}
	kubeconfig, err := filepath.Abs(d.kubeconfigPath)
	if err != nil {
		kubeconfig = d.kubeconfigPath
	}
	d.p.plain("")
	d.p.plain("demo ready")
	d.p.plain("simulator: %s", d.simURL)
	d.p.plain("namespace: %s", demoNamespace)
	d.p.plain("kubeconfig: %s", kubeconfig)
	d.p.plain("")
	return nil
}

// printHints lists the commands to look around with.
func (d *demo) printHints(items []elementsv1alpha1.HubSpotInstance) {
	describe := d.samples[0].Name
	for i := range items {
		if items[i].Namespace == demoNamespace && items[i].Spec.Auth.Type == elementsv1alpha1.AuthTypeOAuth2 {
			describe = items[i].Name
			break
		}
	}
	k := d.kubectl + " --kubeconfig " + d.kubeconfigPath
	d.p.plain("Look around while the demo runs (Ctrl-C stops everything and removes the kubeconfig):")
	d.p.plain("  %s get hsi -A -w", k)
	d.p.plain("  %s describe hsi -n %s %s", k, demoNamespace, describe)
	d.p.plain("  %s get secret -n %s", k, demoNamespace)
	d.p.plain("  %s get events -n %s", k, demoNamespace)
	d.p.plain("  curl -s %s/simulator/instances    # the simulator's view (element tokens in clear)", d.simURL)
	d.p.plain("  curl -s http://%s/metrics | grep ^hubspot_operator", d.metricsAddr)
	d.p.plain("Logs: operator %s, simulator %s", d.operatorLog, d.simulatorLog)
	d.p.plain("")
	d.p.step("running; changes are narrated below. Ctrl-C to stop.")
}
