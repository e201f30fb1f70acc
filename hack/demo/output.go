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
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/duration"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

// printer writes the demo's narration: each step prefixed with the time
// elapsed since the demo started. It is safe for concurrent use.
type printer struct {
	mu    sync.Mutex
	out   io.Writer
	start time.Time
}

func newPrinter(out io.Writer) *printer {
	return &printer{out: out, start: time.Now()}
}

// detailIndent lines details up under the text of a step.
const detailIndent = "           "

func (p *printer) elapsed() time.Duration { return time.Since(p.start) }

// step prints "[ 12.3s] message".
func (p *printer) step(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.out, "[%6.1fs] %s\n", p.elapsed().Seconds(), fmt.Sprintf(format, args...))
}

// detail prints an indented line under the previous step.
func (p *printer) detail(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.out, "%s%s\n", detailIndent, fmt.Sprintf(format, args...))
}

// plain prints lines as they are (blank lines, tables, "demo ready").
func (p *printer) plain(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.out, format+"\n", args...)
}

// seconds formats a duration for the narration.
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
}

// maskToken hides all of a token but its last 4 characters, and its length.
func maskToken(token string) string {
	const shown = 4
	if len(token) <= shown {
		return strings.Repeat("*", 12)
	}
	return strings.Repeat("*", 12) + token[len(token)-shown:]
}

// redactQuery keeps a URL's address and its parameter names, and hides their
// values: a callback URL carries an authorization code.
func redactQuery(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	raw := c.RawQuery
	c.RawQuery, c.Fragment = "", ""
	if raw == "" {
		return c.String()
	}
	var names []string
	for _, part := range strings.Split(raw, "&") {
		if name, _, _ := strings.Cut(part, "="); name != "" {
			names = append(names, name+"=…")
		}
	}
	return c.String() + "?" + strings.Join(names, "&")
}

// clipText shortens a condition message for one line of narration.
func clipText(s string, limit int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > limit {
		return string(r[:limit-1]) + "…"
	}
	return s
}

func readyCondition(obj *elementsv1alpha1.HubSpotInstance) (status, reason, message string) {
	c := meta.FindStatusCondition(obj.Status.Conditions, elementsv1alpha1.ConditionReady)
	if c == nil {
		return "", "", ""
	}
	return string(c.Status), c.Reason, c.Message
}

// maxBulkRows is how many bulk objects the table shows before summarizing.
const maxBulkRows = 5

// printTable prints what `kubectl get hsi -A` shows, sorted the same way.
func (d *demo) printTable(items []elementsv1alpha1.HubSpotInstance) {
	sort.Slice(items, func(i, j int) bool {
		if items[i].Namespace != items[j].Namespace {
			return items[i].Namespace < items[j].Namespace
		}
		return items[i].Name < items[j].Name
	})
	d.p.mu.Lock()
	defer d.p.mu.Unlock()
	tw := tabwriter.NewWriter(d.p.out, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tNAME\tAUTH\tINSTANCE\tREADY\tREASON\tAGE")
	bulkShown, bulkHidden := 0, 0
	for i := range items {
		obj := &items[i]
		if d.isBulk(obj) {
			if bulkShown >= maxBulkRows {
				bulkHidden++
				continue
			}
			bulkShown++
		}
		status, reason, _ := readyCondition(obj)
		instance := "<none>"
		if obj.Status.InstanceID != 0 {
			instance = strconv.FormatInt(obj.Status.InstanceID, 10)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", obj.Namespace, obj.Name, obj.Spec.Auth.Type, instance,
			orNone(status), orNone(reason), duration.HumanDuration(time.Since(obj.CreationTimestamp.Time)))
	}
	_ = tw.Flush()
	if bulkHidden > 0 {
		fmt.Fprintf(d.p.out, "… and %d more bulk-* objects (kubectl get hsi -n %s shows them all)\n", bulkHidden, demoNamespace)
	}
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// printTokenSecret prints a token Secret's keys and its hash annotation,
// every secret value masked.
func (d *demo) printTokenSecret(sec *corev1.Secret, obj *elementsv1alpha1.HubSpotInstance) {
	keys := make([]string, 0, len(sec.Data))
	for key := range sec.Data {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	d.p.plain("  %s/%s", sec.Namespace, sec.Name)
	for _, key := range keys {
		d.p.plain("      %-13s %s", key, maskValue(key, string(sec.Data[key])))
	}
	short := func(hash string) string { return hash[:min(len(hash), 24)] + "…" }
	if hash := sec.Annotations[elementsv1alpha1.DataHashAnnotation]; hash != "" {
		d.p.plain("      %-13s %s (annotation %s: moves when the data does)", "data hash", short(hash), elementsv1alpha1.DataHashAnnotation)
	}
	if obj.Status.TokenHash != "" && obj.Status.LastTokenChangeTime != nil {
		d.p.plain("      %-13s %s (status.tokenHash: moves when the token does; lastTokenChangeTime %s)", "token hash",
			short(obj.Status.TokenHash), obj.Status.LastTokenChangeTime.UTC().Format(time.RFC3339))
	}
}

// maskValue shows what a workload can see without showing a secret: the
// instance's id, element key and endpoint as they are, an Authorization
// value with each of its three secrets masked, anything else masked whole.
func maskValue(key, value string) string {
	switch key {
	case elementsv1alpha1.InstanceIDKey, elementsv1alpha1.ElementKeyKey, elementsv1alpha1.EndpointKey:
		return value
	}
	if strings.HasPrefix(value, "User ") {
		parts := strings.Split(value, ", ")
		for i, part := range parts {
			if name, secret, ok := strings.Cut(part, " "); ok {
				parts[i] = name + " " + maskToken(secret)
			}
		}
		return strings.Join(parts, ", ")
	}
	return maskToken(value)
}
