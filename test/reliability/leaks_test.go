//go:build reliability

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

package reliability

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

// leakScanner finds any of many needles in large texts: needles are
// indexed by their first 8 bytes, so a scan is one map lookup per byte.
type leakScanner struct {
	byPrefix map[string][]string
	what     map[string]string
}

func newLeakScanner(needles map[string]string) *leakScanner {
	ls := &leakScanner{byPrefix: map[string][]string{}, what: needles}
	for n := range needles {
		if len(n) >= minSecretLength {
			ls.byPrefix[n[:minSecretLength]] = append(ls.byPrefix[n[:minSecretLength]], n)
		}
	}
	return ls
}

type leak struct{ where, what string }

func (ls *leakScanner) scan(where string, text []byte) []leak {
	var found []leak
	for i := 0; i+minSecretLength <= len(text); i++ {
		candidates, ok := ls.byPrefix[string(text[i:i+minSecretLength])]
		if !ok {
			continue
		}
		for _, n := range candidates {
			if bytes.HasPrefix(text[i:], []byte(n)) {
				line := 1 + bytes.Count(text[:i], []byte("\n"))
				found = append(found, leak{where: fmt.Sprintf("%s:%d", where, line), what: ls.what[n]})
			}
		}
	}
	return found
}

func noLeaks() {
	point(6)

	It("finds no secret value in any operator log, Event or HubSpotInstance", func() {
		key := &corev1.Secret{}
		if k8s.Get(ctx, client.ObjectKey{Namespace: "default", Name: "hubspot-operator-oauth-state"}, key) == nil {
			secrets.add("OAuth state signing key", string(key.Data["key"]))
		}
		for _, s := range sims {
			for _, inst := range s.Instances() {
				secrets.add("element token", inst.Token)
			}
		}
		needles := secrets.needles()
		// The positive control: a value planted in each kind of place scanned,
		// which the scan must find there. A scan that read nothing, or could
		// no longer match, would otherwise pass.
		canary := publicValue("leak-scan-canary")
		for needle, what := range (&leakRegistry{values: map[string]string{canary: plantedWhat}}).needles() {
			needles[needle] = what
		}
		planted := plantCanary(canary)
		ls := newLeakScanner(needles)
		var leaks []leak

		logBytes, logFiles := 0, 0
		seen := map[string]bool{}
		for _, o := range allOperators {
			if seen[o.LogPath] {
				continue
			}
			seen[o.LogPath] = true
			b, err := os.ReadFile(o.LogPath)
			if err != nil {
				continue // an operator that never started
			}
			logFiles++
			logBytes += len(b)
			leaks = append(leaks, ls.scan(o.LogPath, b)...)
		}

		evs := events("")
		for _, e := range evs {
			b, err := json.Marshal(e)
			Expect(err).NotTo(HaveOccurred())
			leaks = append(leaks, ls.scan("Event "+e.Namespace+"/"+e.Name, b)...)
		}

		var objs elementsv1alpha1.HubSpotInstanceList
		Expect(k8s.List(ctx, &objs)).To(Succeed())
		statusBytes := 0
		for _, obj := range objs.Items {
			// The whole object: status above all, but nothing in metadata or
			// spec may carry a secret either.
			b, err := json.Marshal(obj)
			Expect(err).NotTo(HaveOccurred())
			statusBytes += len(b)
			leaks = append(leaks, ls.scan("HubSpotInstance "+obj.Namespace+"/"+obj.Name, b)...)
		}

		missed := notFound(planted, leaks)
		leaks = slices.DeleteFunc(leaks, func(l leak) bool { return strings.HasPrefix(l.what, plantedWhat) })

		kinds := secrets.kinds()
		var where []string
		for _, l := range leaks {
			where = append(where, l.where+" ("+l.what+")")
		}
		sort.Strings(where)
		if len(where) > 20 {
			where = append(where[:20], fmt.Sprintf("… and %d more", len(leaks)-20))
		}

		rep.fig(6, "Secret values tracked", fmt.Sprintf("%d (%s)", secrets.count(), kinds), "")
		rep.fig(6, "Needles searched (values and their base64 forms)", len(needles), "")
		rep.fig(6, "Operator log files / bytes scanned (V(5))", fmt.Sprintf("%d / %.1f MiB", logFiles, float64(logBytes)/(1<<20)), "")
		rep.fig(6, "Events scanned (all namespaces)", len(evs), "")
		rep.fig(6, "HubSpotInstances scanned (whole object, status included)", fmt.Sprintf("%d (%.1f MiB)", len(objs.Items), float64(statusBytes)/(1<<20)), "")
		rep.fig(6, "Positive control: planted values found (operator log, Event, HubSpotInstance)", fmt.Sprintf("%d/%d", len(planted)-len(missed), len(planted)),
			fmt.Sprintf("%d/%d", len(planted), len(planted)))
		rep.fig(6, "Hits (leaks)", len(leaks), "0")
		if len(leaks) > 0 {
			rep.note(6, "Leaks (value not shown): %s.", strings.Join(where, "; "))
		}
		rep.headline(6, "%d secret values (%d needles) searched in %d logs (%.1f MiB), %d Events, %d objects: **%d leaks**",
			secrets.count(), len(needles), logFiles, float64(logBytes)/(1<<20), len(evs), len(objs.Items), len(leaks))

		Expect(missed).To(BeEmpty(), "the positive control: values planted where the scan looks, not found by it")
		Expect(where).To(BeEmpty(), "secret values found (the value itself is not printed)")
	})
}

// plantedWhat names the positive control's needles.
const plantedWhat = "planted by the positive control"

// plantCanary puts the canary in one operator log (raw), an Event (base64)
// and a HubSpotInstance annotation (base64url), one form in each, and returns
// where the scan must find it: each a leak.where without its ":<line>".
func plantCanary(canary string) []string {
	GinkgoHelper()
	var planted []string
	for _, o := range allOperators {
		f, err := os.OpenFile(o.LogPath, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			continue // an operator that never started
		}
		_, err = fmt.Fprintf(f, "leak scan positive control (written by the suite, not the operator): %s\n", canary)
		Expect(errors.Join(err, f.Close())).To(Succeed())
		planted = append(planted, o.LogPath)
		break
	}
	Expect(planted).NotTo(BeEmpty(), "no operator log to plant the positive control in")

	ev := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Namespace: "default", GenerateName: "leak-scan-canary-"},
		InvolvedObject: corev1.ObjectReference{APIVersion: "v1", Kind: "ConfigMap", Namespace: "default", Name: "leak-scan-canary"},
		Reason:         "LeakScanCanary",
		Type:           corev1.EventTypeNormal,
		Message:        "leak scan positive control: " + base64.StdEncoding.EncodeToString([]byte(canary)),
		Source:         corev1.EventSource{Component: "reliability-suite"},
	}
	Expect(k8s.Create(ctx, ev)).To(Succeed())
	planted = append(planted, "Event "+ev.Namespace+"/"+ev.Name)

	var objs elementsv1alpha1.HubSpotInstanceList
	Expect(k8s.List(ctx, &objs)).To(Succeed())
	Expect(objs.Items).NotTo(BeEmpty(), "no HubSpotInstance to plant the positive control in")
	obj := objs.Items[0].DeepCopy()
	patch := client.MergeFrom(obj.DeepCopy())
	if obj.Annotations == nil {
		obj.Annotations = map[string]string{}
	}
	obj.Annotations["reliability.test/leak-scan-canary"] = base64.RawURLEncoding.EncodeToString([]byte(canary))
	Expect(k8s.Patch(ctx, obj, patch)).To(Succeed())
	return append(planted, "HubSpotInstance "+obj.Namespace+"/"+obj.Name)
}

// notFound lists the places planted that no leak of a planted needle names.
func notFound(planted []string, leaks []leak) []string {
	var missed []string
	for _, place := range planted {
		if !slices.ContainsFunc(leaks, func(l leak) bool {
			return strings.HasPrefix(l.what, plantedWhat) && strings.HasPrefix(l.where, place+":")
		}) {
			missed = append(missed, place)
		}
	}
	return missed
}
