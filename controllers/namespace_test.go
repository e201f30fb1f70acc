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
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
)

// With the real namespace controller and garbage collector
// (kube-controller-manager), as on a cluster.
var _ = Describe("Namespace deletion and garbage collection", func() {
	var ns string

	BeforeEach(func() { ns = apiKeyNamespace() })

	It("deleting a namespace deletes its instances at Cloud Elements (or keeps the orphans) and completes", func() {
		var doomed []*elementsv1alpha1.HubSpotInstance
		for _, name := range []string{"one", "two", "three"} {
			obj := apiKeyInstance(ns, name)
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			doomed = append(doomed, obj)
		}
		kept := apiKeyInstance(ns, "kept")
		kept.Spec.DeletionPolicy = elementsv1alpha1.DeletionPolicyOrphan
		Expect(k8sClient.Create(ctx, kept)).To(Succeed())
		for i, obj := range doomed {
			doomed[i] = eventuallyReady(key(obj))
		}
		kept = eventuallyReady(key(kept))
		Expect(get(client.ObjectKey{Namespace: ns, Name: "one"}).Finalizers).To(ContainElement(elementsv1alpha1.Finalizer))
		creds := &corev1.Secret{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "cloud-elements"}, creds)).To(Succeed())
		Expect(controllerutil.ContainsFinalizer(creds, elementsv1alpha1.CredentialsInUseFinalizer)).To(BeTrue())

		// Cloud Elements stumbles over the first deletes: the retries come
		// after the namespace controller has reached the Secrets.
		sim.SetFault(simulator.OpDelete, simulator.Fault{FailNext: 3, Status: http.StatusServiceUnavailable})
		Expect(k8sClient.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{}))
		}).WithTimeout(90*time.Second).WithPolling(500*time.Millisecond).Should(BeTrue(), "namespace %s is gone", ns)
		for _, obj := range doomed {
			Expect(instancesOwnedBy(obj)).To(BeZero(), "instance of %s deleted at Cloud Elements", obj.Name)
		}
		Expect(instancesOwnedBy(kept)).To(Equal(1), "deletionPolicy Orphan keeps the instance")
	})

	It("a Secret no object needs any more is released", func() {
		obj := apiKeyInstance(ns, "moving")
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		got := eventuallyReady(key(obj))
		got.Spec.DeletionPolicy = elementsv1alpha1.DeletionPolicyOrphan
		Expect(k8sClient.Update(ctx, got)).To(Succeed())
		Eventually(func() []string {
			s := &corev1.Secret{}
			Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "cloud-elements"}, s)).To(Succeed())
			return s.Finalizers
		}).WithTimeout(10 * time.Second).ShouldNot(ContainElement(elementsv1alpha1.CredentialsInUseFinalizer))
	})

	It("the garbage collector deletes the token Secret of an object deleted with deletionPolicy Orphan", func() {
		obj := apiKeyInstance(ns, "orphaned")
		obj.Spec.DeletionPolicy = elementsv1alpha1.DeletionPolicyOrphan
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		got := eventuallyReady(key(obj))
		Expect(tokenSecret(ns, "orphaned-element-token").OwnerReferences).To(HaveLen(1))
		deleteAndWait(got)
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "orphaned-element-token"}, &corev1.Secret{}))
		}).WithTimeout(60*time.Second).Should(BeTrue(), "token Secret garbage-collected")
		Expect(instancesOwnedBy(got)).To(Equal(1), "the instance itself is kept")
	})
})
