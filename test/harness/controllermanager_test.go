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

package harness_test

import (
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/hubspot-operator/hubspot-operator/test/harness"
)

// holdFinalizer keeps an object, and so its namespace, from going away until
// the test removes it; nothing in the control plane acts on it.
const holdFinalizer = "harness.test.hubspot-operator.io/hold"

var _ = Describe("kube-controller-manager", func() {
	It("runs next to kube-apiserver", func() {
		Expect(cp.ControllerManager).NotTo(BeNil())
		Expect(cp.ControllerManager.Running()).To(BeTrue())
		Expect(cp.ControllerManager.Args).To(ContainElement("--controllers=namespace-controller,garbage-collector-controller"))
	})

	Context("garbage collector", func() {
		It("deletes a Secret whose controlling owner, a ConfigMap, was deleted", func() {
			ns := newNamespace("gc")
			owner := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "owner"}, Data: map[string]string{"k": "v"}}
			Expect(k8s.Create(ctx, owner)).To(Succeed())
			dependent := ownedSecret(owner, "dependent")
			Expect(k8s.Create(ctx, dependent)).To(Succeed())
			bystander := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bystander"}}
			Expect(k8s.Create(ctx, bystander)).To(Succeed())

			Expect(k8s.Delete(ctx, owner)).To(Succeed())

			Eventually(get).WithArguments(dependent).Should(beNotFound(), "the dependent Secret is collected")
			Expect(get(bystander)).To(Succeed(), "a Secret without owners stays")
		})

		It("keeps an owner deleted in the foreground until its blocking dependent is gone", func() {
			ns := newNamespace("gc-fg")
			owner := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "owner"}}
			Expect(k8s.Create(ctx, owner)).To(Succeed())
			dependent := ownedSecret(owner, "dependent")
			dependent.Finalizers = []string{holdFinalizer}
			Expect(k8s.Create(ctx, dependent)).To(Succeed())

			Expect(k8s.Delete(ctx, owner, client.PropagationPolicy(metav1.DeletePropagationForeground))).To(Succeed())

			By("the garbage collector deletes the dependent, which its finalizer holds")
			Eventually(func(g Gomega) {
				var s corev1.Secret
				g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(dependent), &s)).To(Succeed())
				g.Expect(s.DeletionTimestamp).NotTo(BeNil())
			}).Should(Succeed())
			By("so the owner waits, with the foregroundDeletion finalizer")
			var o corev1.ConfigMap
			Expect(k8s.Get(ctx, client.ObjectKeyFromObject(owner), &o)).To(Succeed())
			Expect(o.DeletionTimestamp).NotTo(BeNil())
			Expect(o.Finalizers).To(ContainElement(metav1.FinalizerDeleteDependents))

			By("once the dependent is gone, the owner goes too")
			removeFinalizer(dependent)
			Eventually(get).WithArguments(dependent).Should(beNotFound())
			Eventually(get).WithArguments(owner).Should(beNotFound())
		})
	})

	Context("namespace controller", func() {
		It("empties a deleted namespace and removes it", func() {
			ns := newNamespace("ns-delete")
			for i := range 3 {
				name := "object-" + string(rune('a'+i))
				Expect(k8s.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}})).To(Succeed())
				Expect(k8s.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}})).To(Succeed())
			}
			Expect(k8s.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "robot"}})).To(Succeed())

			namespace := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
			Expect(k8s.Delete(ctx, namespace)).To(Succeed())

			Eventually(get).WithArguments(namespace).Should(beNotFound(), "the namespace is finalized and removed")
			var secrets corev1.SecretList
			Expect(k8s.List(ctx, &secrets, client.InNamespace(ns))).To(Succeed())
			Expect(secrets.Items).To(BeEmpty())
		})

		It("keeps a namespace Terminating while an object's finalizer remains, then removes it", func() {
			ns := newNamespace("ns-finalizer")
			held := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "held", Finalizers: []string{holdFinalizer}}}
			Expect(k8s.Create(ctx, held)).To(Succeed())
			Expect(k8s.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "free"}})).To(Succeed())

			namespace := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
			Expect(k8s.Delete(ctx, namespace)).To(Succeed())

			By("the namespace controller deletes the content and reports the finalizer it waits for")
			Eventually(get).WithArguments(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "free"}}).Should(beNotFound())
			Eventually(func(g Gomega) {
				var n corev1.Namespace
				g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(namespace), &n)).To(Succeed())
				g.Expect(n.Status.Phase).To(Equal(corev1.NamespaceTerminating))
				g.Expect(n.Status.Conditions).To(ContainElement(And(
					HaveField("Type", corev1.NamespaceFinalizersRemaining),
					HaveField("Status", corev1.ConditionTrue),
					HaveField("Message", ContainSubstring(holdFinalizer)),
				)))
			}).Should(Succeed())
			var cm corev1.ConfigMap
			Expect(k8s.Get(ctx, client.ObjectKeyFromObject(held), &cm)).To(Succeed())
			Expect(cm.DeletionTimestamp).NotTo(BeNil(), "the held object is being deleted")

			By("while the finalizer is there, the namespace stays")
			Consistently(func(g Gomega) {
				var n corev1.Namespace
				g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(namespace), &n)).To(Succeed())
				g.Expect(n.Status.Phase).To(Equal(corev1.NamespaceTerminating))
			}).WithTimeout(3 * time.Second).Should(Succeed())

			By("once it is removed, the object and the namespace go")
			removeFinalizer(held)
			Eventually(get).WithArguments(held).Should(beNotFound())
			Eventually(get).WithArguments(namespace).Should(beNotFound())
		})
	})

	It("is reported missing from the envtest assets with how to get it", func() {
		dir := GinkgoT().TempDir()
		for _, bin := range []string{"kube-apiserver", "etcd", "kubectl"} {
			Expect(os.WriteFile(filepath.Join(dir, bin), []byte("#!/bin/sh\n"), 0o755)).To(Succeed())
		}
		_, err := harness.ControllerManagerPath(dir)
		Expect(err).To(MatchError(ContainSubstring("hack/setup-envtest.sh")))
		Expect(err).To(MatchError(ContainSubstring(harness.ControllerManagerBinary)))

		_, err = harness.StartControllerManager(ctx, cp.Env, dir, GinkgoT().TempDir())
		Expect(err).To(MatchError(ContainSubstring("hack/setup-envtest.sh")))
	})
})

func newNamespace(prefix string) string {
	GinkgoHelper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}
	Expect(k8s.Create(ctx, ns)).To(Succeed())
	return ns.Name
}

// ownedSecret is a Secret controlled by owner, blocking its foreground
// deletion, the way the operator owns its token Secrets.
func ownedSecret(owner *corev1.ConfigMap, name string) *corev1.Secret {
	yes := true
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: owner.Namespace, Name: name,
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID,
			Controller: &yes, BlockOwnerDeletion: &yes}}}}
}

func get(obj client.Object) error {
	return k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj)
}

func beNotFound() OmegaMatcher {
	return WithTransform(apierrors.IsNotFound, BeTrue())
}

func removeFinalizer(obj client.Object) {
	GinkgoHelper()
	patch := `{"metadata":{"finalizers":null}}`
	Expect(k8s.Patch(ctx, obj, client.RawPatch(types.MergePatchType, []byte(patch)))).To(Succeed())
}
