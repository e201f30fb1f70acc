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

package manifests_test

import (
	"context"
	"flag"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/operator"
)

// The namespaced install is only right if the operator can do its work with
// it. So its RBAC objects are applied for real, and the operator runs, as its
// ServiceAccount (impersonated) and with its Deployment's own arguments, in
// this process.
var _ = Describe("The operator with config/namespaced's RBAC", Ordered, func() {
	const serviceAccount = "system:serviceaccount:" + operatorNamespace + ":hubspot-operator-controller-manager"
	var (
		asOperator client.Client
		stop       context.CancelFunc
		stopped    = make(chan error, 1)
	)

	BeforeAll(func() {
		objs := kustomizeBuild("config/namespaced")()
		var args []string
		for _, o := range objs {
			switch o.GetKind() {
			case "ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding":
				Expect(k8sClient.Apply(ctx, client.ApplyConfigurationFromUnstructured(o), fieldOwner, client.ForceOwnership)).
					To(Succeed(), describe(o))
			case "Deployment":
				containers, _, err := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
				Expect(err).NotTo(HaveOccurred())
				for _, a := range containers[0].(map[string]any)["args"].([]any) {
					args = append(args, a.(string))
				}
			}
		}
		Expect(args).To(ContainElement("--watch-namespaces=" + watchedNamespace))

		impersonated := rest.CopyConfig(cfg)
		impersonated.WarningHandler = rest.NoWarnings{}
		impersonated.Impersonate = rest.ImpersonationConfig{
			UserName: serviceAccount,
			Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + operatorNamespace, "system:authenticated"},
		}
		var err error
		asOperator, err = client.New(impersonated, client.Options{Scheme: operator.Scheme})
		Expect(err).NotTo(HaveOccurred())

		// The Deployment's arguments, then what differs in a test process:
		// no listeners, and the namespace the pod would get from POD_NAMESPACE.
		var opts operator.Options
		fs := flag.NewFlagSet("manager", flag.ContinueOnError)
		opts.BindFlags(fs)
		Expect(fs.Parse(append(args,
			"--health-probe-bind-address=0",
			"--metrics-bind-address=0",
			"--oauth-callback-bind-address=0",
			"--operator-namespace="+operatorNamespace,
		))).To(Succeed())
		Expect(opts.LeaderElection).To(BeTrue())

		// Its Roles cannot grant get on the kube-system Namespace, whose UID
		// is the default cluster name: the operator must refuse to start,
		// saying what to set, rather than run without a cluster name.
		_, err = operator.New(ctx, impersonated, opts)
		Expect(err).To(MatchError(ContainSubstring("set --cluster-name")))
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		Expect(fs.Parse([]string{"--cluster-name=manifests-test"})).To(Succeed())

		var mgrCtx context.Context
		mgrCtx, stop = context.WithCancel(ctx)
		// New already reads, or creates, the OAuth state key Secret.
		mgr, err := operator.New(mgrCtx, impersonated, opts)
		Expect(err).NotTo(HaveOccurred())
		go func() {
			defer GinkgoRecover()
			stopped <- mgr.Start(mgrCtx)
		}()
	})

	AfterAll(func() {
		if stop != nil {
			stop()
			Eventually(stopped, 30*time.Second).Should(Receive(BeNil()))
		}
	})

	It("may not read Secrets anywhere else", func() {
		Expect(asOperator.List(ctx, &corev1.SecretList{}, client.InNamespace(watchedNamespace))).To(Succeed())
		for _, opts := range [][]client.ListOption{
			nil, // cluster-wide
			{client.InNamespace(otherNamespace)},
			{client.InNamespace(operatorNamespace)}, // its own: only the state key, by name
		} {
			err := asOperator.List(ctx, &corev1.SecretList{}, opts...)
			Expect(apierrors.IsForbidden(err)).To(BeTrue(), "listing Secrets with %v: %v", opts, err)
		}
	})

	It("created its OAuth state key Secret in its own namespace", func() {
		key := client.ObjectKey{Namespace: operatorNamespace, Name: "hubspot-operator-oauth-state"}
		Expect(asOperator.Get(ctx, key, &corev1.Secret{})).To(Succeed())
	})

	It("holds the leader election Lease in its own namespace", func() {
		Eventually(func(g Gomega) {
			lease := &coordinationv1.Lease{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: operatorNamespace, Name: "hubspot-operator.cloud-elements.io"}, lease)).To(Succeed())
			g.Expect(lease.Spec.HolderIdentity).NotTo(BeNil())
		}, 30*time.Second, 200*time.Millisecond).Should(Succeed())
	})

	// config/samples' API-key instance, without the Secrets it references:
	// the reconciler reads them, reports MissingConfiguration and never calls
	// Cloud Elements.
	newInstance := func(namespace string) *elementsv1alpha1.HubSpotInstance {
		for _, o := range samples() {
			if o.GetKind() != "HubSpotInstance" {
				continue
			}
			if authType, _, _ := unstructured.NestedString(o.Object, "spec", "auth", "type"); authType != string(elementsv1alpha1.AuthTypeAPIKey) {
				continue
			}
			obj := &elementsv1alpha1.HubSpotInstance{}
			Expect(runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(o.Object, obj, true)).To(Succeed())
			obj.Namespace = namespace
			return obj
		}
		Fail("config/samples has no APIKey HubSpotInstance")
		return nil
	}

	It("reconciles a HubSpotInstance in the watched namespace", func() {
		obj := newInstance(watchedNamespace)
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(stopped).NotTo(Receive(), "the manager stopped")
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
			ready := apimeta.FindStatusCondition(obj.Status.Conditions, elementsv1alpha1.ConditionReady)
			g.Expect(ready).NotTo(BeNil())
			g.Expect(ready.Reason).To(Equal(elementsv1alpha1.ReasonMissingConfiguration))
		}, 60*time.Second, 250*time.Millisecond).Should(Succeed())
	})

	It("leaves HubSpotInstances in other namespaces alone", func() {
		obj := newInstance(otherNamespace)
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		Consistently(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
			g.Expect(obj.Status.Conditions).To(BeEmpty())
			g.Expect(obj.Finalizers).To(BeEmpty())
		}, 3*time.Second, 250*time.Millisecond).Should(Succeed())
	})
})
