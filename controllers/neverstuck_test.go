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
	"context"
	"net/http"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/controllers"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
	"github.com/hubspot-operator/hubspot-operator/internal/oauthstate"
	"github.com/hubspot-operator/hubspot-operator/internal/operator"
)

// Sequences a hostile reviewer tries: creates the platform commits late,
// two managers at once, stalls that only the platform can end, and stale
// copies that would drop other controllers' finalizers.
var _ = Describe("Never a duplicate, never stuck", func() {
	var ns string

	BeforeEach(func() { ns = apiKeyNamespace() })

	It("a create the platform commits after the client timed out is adopted, not repeated", func() {
		// The client gives up after 2s; the platform commits at 4s and
		// answers never. A second POST before the grace period ends would
		// make a second instance.
		sim.SetFault(simulator.OpCreate, simulator.Fault{CommitLateNext: 1, AnswerAfter: time.Minute, CommitDelay: 4 * time.Second})
		obj := apiKeyInstance(ns, "slow-commit")
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		got := eventuallyReadyWithin(key(obj), 30*time.Second)
		Consistently(func() int { return instancesOwnedBy(got) }).WithTimeout(5 * time.Second).Should(Equal(1))
		Expect(eventReasons(got)).To(ContainElement(elementsv1alpha1.EventReasonAdopted))
	})

	It("a 503 from a proxy that forwarded the create is not taken for 'nothing created'", func() {
		sim.SetFault(simulator.OpCreate, simulator.Fault{CommitFailNext: 1, CommitFailStatus: http.StatusServiceUnavailable})
		obj := apiKeyInstance(ns, "proxy-503")
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		got := eventuallyReadyWithin(key(obj), 30*time.Second)
		Consistently(func() int { return instancesOwnedBy(got) }).WithTimeout(2 * time.Second).Should(Equal(1))
	})

	It("a 409 'being created' from a platform that committed the create is not taken for 'nothing created'", func() {
		sim.SetFault(simulator.OpCreate, simulator.Fault{CommitFailNext: 1, CommitFailStatus: http.StatusConflict,
			CommitFailBody: `{"message":"Instance is being created","requestId":"r-409"}`})
		obj := apiKeyInstance(ns, "committed-409")
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		got := eventuallyReadyWithin(key(obj), 30*time.Second)
		Consistently(func() int { return instancesOwnedBy(got) }).WithTimeout(2 * time.Second).Should(Equal(1))
		Expect(eventReasons(got)).To(ContainElement(elementsv1alpha1.EventReasonAdopted))
	})

	It("two managers reconciling the same objects create each instance once", func() {
		second := startSecondManager(ns)
		defer second()
		// A slow platform keeps each winner's POST in flight while the loser retries.
		sim.SetFault(simulator.OpCreate, simulator.Fault{Latency: 700 * time.Millisecond})
		var objs []*elementsv1alpha1.HubSpotInstance
		for i := range 8 {
			obj := apiKeyInstance(ns, "contested-"+string(rune('a'+i)))
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			objs = append(objs, obj)
		}
		for _, obj := range objs {
			got := eventuallyReadyWithin(key(obj), 60*time.Second)
			Expect(instancesOwnedBy(got)).To(Equal(1), "instances of %s", obj.Name)
		}
		Consistently(func() int {
			n := 0
			for _, obj := range objs {
				n += instancesOwnedBy(get(key(obj)))
			}
			return n
		}).WithTimeout(3 * time.Second).Should(Equal(len(objs)))
	})

	It("deleting after an interrupted create deletes every instance carrying the owner tag", func() {
		obj := apiKeyInstance(ns, "leaky")
		obj.Spec.Suspend = true
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		got := get(key(obj))
		for range 2 {
			createInstanceByHand("leaked", got.OwnerTag())
		}
		patch := client.MergeFrom(got.DeepCopy())
		got.Annotations = map[string]string{elementsv1alpha1.CreatePendingAnnotation: time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}
		controllerutil.AddFinalizer(got, elementsv1alpha1.Finalizer)
		Expect(k8sClient.Patch(ctx, got, patch)).To(Succeed())
		Expect(instancesOwnedBy(got)).To(Equal(2))

		deleteAndWait(got)
		Expect(instancesOwnedBy(got)).To(BeZero())
	})

	Describe("stalls that come from Cloud Elements are retried at the poll interval", func() {
		It("a 401 during a poll stalls, and schedules its own retry", func() {
			obj := apiKeyInstance(ns, "waf")
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			eventuallyReady(key(obj))
			sim.SetFault(simulator.OpGet, simulator.Fault{FailNext: 1000, Status: http.StatusUnauthorized})
			clock.Advance(2 * time.Minute)
			requestReconcile(key(obj))
			got := eventuallyReason(key(obj), elementsv1alpha1.ReasonUnauthorized)
			Expect(condition(got, elementsv1alpha1.ConditionStalled)).NotTo(BeNil(), "a person should look")
			// What the workqueue is told: retry at the poll interval.
			res := forceReconcile(key(obj))
			// A held stall waits what remains of the interval and its jitter
			// (which may be a few ms): less what passed since it was recorded.
			Expect(res.RequeueAfter).To(BeNumerically(">=", time.Minute-5*time.Second), "retried at the poll interval")
			Expect(res.RequeueAfter).To(BeNumerically("<=", time.Minute+3*time.Second), "with at most 5% jitter")

			sim.ClearFaults()
			clock.Advance(2 * time.Minute)
			requestReconcile(key(obj)) // what the scheduled retry does, without waiting a minute
			eventuallyReady(key(obj))
		})

		It("a 403 on DELETE keeps the finalizer and schedules its own retry", func() {
			obj := apiKeyInstance(ns, "undeletable")
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			got := eventuallyReady(key(obj))
			sim.SetFault(simulator.OpDelete, simulator.Fault{FailNext: 1000, Status: http.StatusForbidden})
			Expect(k8sClient.Delete(ctx, got)).To(Succeed())
			eventuallyReason(key(obj), elementsv1alpha1.ReasonUnauthorized)
			res := forceReconcile(key(obj))
			Expect(res.RequeueAfter).To(BeNumerically(">=", time.Minute))
			sim.ClearFaults()
			forceReconcile(key(obj)) // what the scheduled retry does
			deleteAndWait(got)
		})

		It("a disabled instance is Stalled (Flux and Argo CD agree) and recovers when enabled", func() {
			obj := apiKeyInstance(ns, "switched-off")
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			got := eventuallyReady(key(obj))
			Expect(sim.SetDisabled(got.Status.InstanceID, true)).To(Succeed())
			clock.Advance(2 * time.Minute)
			requestReconcile(key(obj))
			got = eventuallyReason(key(obj), elementsv1alpha1.ReasonInstanceDisabled)
			Expect(condition(got, elementsv1alpha1.ConditionStalled)).NotTo(BeNil())
			Expect(kstatusOf(got)).To(Equal(status.FailedStatus))

			// The account's listing notices it is enabled again: no request needed.
			Expect(sim.SetDisabled(got.Status.InstanceID, false)).To(Succeed())
			clock.Advance(2 * time.Minute)
			eventuallyReady(key(obj))
			Expect(condition(get(key(obj)), elementsv1alpha1.ConditionStalled)).To(BeNil())
		})
	})

	Describe("finalizers of other controllers survive our stale copies", func() {
		It("adding ours keeps one another controller added meanwhile", func() {
			existing := createInstanceByHand("existing")

			const other = "example.com/keep-me"
			obj := apiKeyInstance(ns, "shared-finalizers")
			obj.Annotations = map[string]string{elementsv1alpha1.InstanceIDAnnotation: strconv.FormatInt(existing.ID, 10)}
			writes.beforeFinalizerPatch.Store(func() {
				// Another controller adds its finalizer after our read.
				fresh := get(key(obj))
				patch := client.MergeFrom(fresh.DeepCopy())
				controllerutil.AddFinalizer(fresh, other)
				Expect(k8sClient.Patch(ctx, fresh, patch)).To(Succeed())
			})
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			eventuallyReady(key(obj))
			Expect(get(key(obj)).Finalizers).To(ConsistOf(other, elementsv1alpha1.Finalizer))

			fresh := get(key(obj))
			patch := client.MergeFrom(fresh.DeepCopy())
			controllerutil.RemoveFinalizer(fresh, other)
			Expect(k8sClient.Patch(ctx, fresh, patch)).To(Succeed())
			deleteAndWait(fresh)
		})
	})
})

func eventuallyReadyWithin(k client.ObjectKey, timeout time.Duration) *elementsv1alpha1.HubSpotInstance {
	var obj *elementsv1alpha1.HubSpotInstance
	Eventually(func(g Gomega) {
		obj = get(k)
		c := condition(obj, elementsv1alpha1.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue), "%s: %s", c.Reason, c.Message)
	}).WithTimeout(timeout).WithPolling(100 * time.Millisecond).Should(Succeed())
	return obj
}

// startSecondManager runs another reconciler, with its own cache and its own
// memory, on one namespace: a second replica without leader election, a
// frozen old leader, or the namespaced install beside the cluster-wide one.
func startSecondManager(ns string) (stop func()) {
	return startSecondManagerWith(ns, func(c client.Client) client.Client { return c })
}

// startSecondManagerWith is startSecondManager whose writes go through wrap,
// which can hold some of them back to force an interleaving.
func startSecondManagerWith(ns string, wrap func(client.Client) client.Client) (stop func()) {
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 operator.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  cache.Options{DefaultNamespaces: map[string]cache.Config{ns: {}}, DefaultTransform: operator.SlimCachedObjects},
		Controller:             config.Controller{SkipNameValidation: ptrTo(true)},
	})
	Expect(err).NotTo(HaveOccurred())
	signer, err := oauthstate.NewSigner([]byte("0123456789abcdef0123456789abcdef"), 0)
	Expect(err).NotTo(HaveOccurred())
	r := controllers.New(wrap(mgr.GetClient()), mgr.GetAPIReader(), mgr.GetEventRecorder(elementsv1alpha1.FieldManager),
		controllers.ClientFactory(&http.Client{Timeout: 2 * time.Second}, 1000, 1000, 0), signer,
		controllers.WithClock(clock.Now), controllers.WithCreateGracePeriod(createGrace), controllers.WithClusterName(clusterName),
		controllers.WithEndpointPolicy(controllers.EndpointPolicy{AllowLoopback: true}),
		controllers.WithHashKey([]byte("suite-hash-key-0123456789abcdef")))
	Expect(r.SetupWithManager(ctx, mgr, controller.Options{MaxConcurrentReconciles: 4,
		RateLimiter: controllers.DefaultRateLimiter()})).To(Succeed())
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(done)
		Expect(mgr.Start(mctx)).To(Succeed())
	}()
	return func() { cancel(); <-done }
}

func ptrTo[T any](v T) *T { return &v }
