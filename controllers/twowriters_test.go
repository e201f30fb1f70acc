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

package controllers_test

import (
	"bytes"
	"context"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
)

// Two managers without leader election, one of them on a machine so busy
// that its writes reach the API server late. Load made the interleaving
// below happen now and then; the late writer makes it happen every time:
// the busy manager loses each marker race, and its "waiting for the other
// create" status arrives after the other manager recorded the instance.
var _ = Describe("Two writers under load", func() {
	It("every object is Ready within the grace period, and no write call reaches the platform that one manager alone would not make", func() {
		ns := apiKeyNamespace()
		second := startSecondManagerWith(ns, func(c client.Client) client.Client { return &lateWriter{Client: c} })
		defer second()
		sim.SetFault(simulator.OpCreate, simulator.Fault{Latency: 1500 * time.Millisecond})
		before := platformWrites()

		const objects = 20
		var objs []*elementsv1alpha1.HubSpotInstance
		for i := range objects {
			obj := apiKeyInstance(ns, fmt.Sprintf("contended-%02d", i))
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			objs = append(objs, obj)
		}
		// The late writer's delays and the creates fit well inside this;
		// an object left waiting for the other manager's create does not.
		deadline := time.Now().Add(createGrace + 10*time.Second)
		for _, obj := range objs {
			Eventually(func(g Gomega) { g.Expect(readyWithItsInstance(key(obj))).To(Succeed()) }).
				WithTimeout(time.Until(deadline)).WithPolling(100 * time.Millisecond).Should(Succeed())
		}
		// Past the grace period too: a manager that waited on the other's
		// marker must not wake to adopt or re-authorize what is recorded.
		Consistently(func(g Gomega) {
			for _, obj := range objs {
				g.Expect(readyWithItsInstance(key(obj))).To(Succeed())
			}
		}).WithTimeout(createGrace + 2*time.Second).WithPolling(time.Second).Should(Succeed())

		after := platformWrites()
		Expect(after[simulator.OpCreate]-before[simulator.OpCreate]).To(Equal(objects), "one create per object")
		for _, op := range []string{simulator.OpReauthorize, simulator.OpUpdate, simulator.OpPatch, simulator.OpSetConfiguration, simulator.OpDelete} {
			Expect(after[op]-before[op]).To(BeZero(), "%s calls", op)
		}
	})
})

// readyWithItsInstance checks that the object is Ready and that status
// records the one instance carrying its owner tag.
func readyWithItsInstance(k client.ObjectKey) error {
	obj := get(k)
	c := condition(obj, elementsv1alpha1.ConditionReady)
	if c == nil || c.Status != metav1.ConditionTrue {
		if c == nil {
			return fmt.Errorf("%s has no Ready condition", k)
		}
		return fmt.Errorf("%s is not Ready: %s: %s (status.instanceID %d)", k, c.Reason, c.Message, obj.Status.InstanceID)
	}
	if owned := instancesOwnedBy(obj); owned != 1 || obj.Status.InstanceID == 0 {
		return fmt.Errorf("%s records instance %d; %d instances carry its owner tag", k, obj.Status.InstanceID, owned)
	}
	return nil
}

// platformWrites counts the calls of each writing operation the simulator
// answered, whatever the answer.
func platformWrites() map[string]int {
	counts := map[string]int{}
	for _, op := range []string{simulator.OpCreate, simulator.OpReauthorize, simulator.OpUpdate, simulator.OpPatch, simulator.OpSetConfiguration, simulator.OpDelete} {
		counts[op] = sim.Total(op)
	}
	return counts
}

// lateWriter is a manager's client on a busy machine: its create markers
// reach the API server after the other manager's, and its status writes
// that record no instance id after the other manager's record.
type lateWriter struct{ client.Client }

const (
	lateMarker = 300 * time.Millisecond
	lateStatus = 2500 * time.Millisecond
)

func (c *lateWriter) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	if _, ok := obj.(*elementsv1alpha1.HubSpotInstance); ok {
		if data, err := patch.Data(obj); err == nil && bytes.Contains(data, []byte(elementsv1alpha1.CreatePendingAnnotation)) {
			sleepCtx(ctx, lateMarker)
		}
	}
	return c.Client.Patch(ctx, obj, patch, opts...)
}

func (c *lateWriter) Status() client.SubResourceWriter {
	return lateStatusWriter{SubResourceWriter: c.Client.Status()}
}

type lateStatusWriter struct{ client.SubResourceWriter }

func (w lateStatusWriter) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	if _, ok := obj.(*elementsv1alpha1.HubSpotInstance); ok {
		if data, err := patch.Data(obj); err == nil && !bytes.Contains(data, []byte(`"instanceID":`)) {
			sleepCtx(ctx, lateStatus)
		}
	}
	return w.SubResourceWriter.Patch(ctx, obj, patch, opts...)
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
