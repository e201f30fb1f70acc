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
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
)

var namespaces atomic.Int32

// newNamespace gives each spec a namespace of its own.
func newNamespace() string {
	name := fmt.Sprintf("hsi-%d", namespaces.Add(1))
	Expect(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})).To(Succeed())
	specNamespaces = append(specNamespaces, name)
	return name
}

func secret(ns, name string, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

func createSecret(ns, name string, data map[string]string) *corev1.Secret {
	s := secret(ns, name, data)
	Expect(k8sClient.Create(ctx, s)).To(Succeed())
	return s
}

func createCredentials(ns string) {
	createSecret(ns, "cloud-elements", map[string]string{"user-secret": userSecret, "organization-secret": orgSecret})
}

// apiKeyNamespace is a fresh namespace with the account credentials and a
// HubSpot API key, and a simulator without faults: what most specs start from.
func apiKeyNamespace() string {
	ns := newNamespace()
	sim.ClearFaults()
	createCredentials(ns)
	createSecret(ns, "hubspot-key", map[string]string{"api-key": "k"})
	return ns
}

// lapse invalidates an object's instance at Cloud Elements, makes the drift
// poll due and waits until the object reports it.
func lapse(obj *elementsv1alpha1.HubSpotInstance, id int64) *elementsv1alpha1.HubSpotInstance {
	Expect(sim.Invalidate(id)).To(Succeed())
	clock.Advance(2 * time.Minute)
	requestReconcile(key(obj))
	return eventuallyReason(key(obj), elementsv1alpha1.ReasonReauthorizationRequired)
}

// createInstanceByHand creates an API-key instance at the simulator the way
// somebody would outside the operator.
func createInstanceByHand(name string, tags ...string) cloudelements.Instance {
	api, err := cloudelements.New(cloudelements.Options{Endpoint: endpoint, UserSecret: userSecret, OrganizationSecret: orgSecret})
	Expect(err).NotTo(HaveOccurred())
	inst, err := api.CreateInstance(ctx, cloudelements.InstanceRequest{
		Element: cloudelements.ElementRef{Key: cloudelements.ElementKey}, Name: name, Tags: tags,
		Configuration: map[string]string{cloudelements.ConfigAuthenticationType: "apiKey", cloudelements.ConfigHubSpotAPIKey: "their-key"}})
	Expect(err).NotTo(HaveOccurred())
	return *inst
}

// retagByHand replaces an instance's tags at the simulator, as somebody with
// the account's credentials would. It is a PATCH, which faults set on
// creates leave alone.
func retagByHand(id int64, tags ...string) {
	api, err := cloudelements.New(cloudelements.Options{Endpoint: endpoint, UserSecret: userSecret, OrganizationSecret: orgSecret})
	Expect(err).NotTo(HaveOccurred())
	_, err = api.PatchInstance(ctx, id, cloudelements.InstancePatch{Tags: tags})
	Expect(err).NotTo(HaveOccurred())
}

// emptyCredentials removes the account secrets from their Secret.
func emptyCredentials(ns string) {
	Expect(k8sClient.Patch(ctx, secret(ns, "cloud-elements", nil), client.RawPatch(types.MergePatchType, []byte(`{"data":null}`)))).To(Succeed())
}

func restoreCredentials(ns string) {
	Expect(k8sClient.Patch(ctx, secret(ns, "cloud-elements", map[string]string{"user-secret": userSecret, "organization-secret": orgSecret}),
		client.Merge)).To(Succeed())
}

// quiesceNamespaces suspends every object in the namespaces a spec made, so
// that their polls and retries stay out of the call counts of later specs.
func quiesceNamespaces() {
	for _, ns := range specNamespaces {
		var list elementsv1alpha1.HubSpotInstanceList
		Expect(k8sClient.List(ctx, &list, client.InNamespace(ns))).To(Succeed())
		for i := range list.Items {
			obj := &list.Items[i]
			patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"suspend":true}}`))
			Expect(client.IgnoreNotFound(k8sClient.Patch(ctx, obj, patch))).To(Succeed())
		}
	}
	specNamespaces = nil
}

// apiKeyInstance is the smallest useful HubSpotInstance, pointed at the simulator.
func apiKeyInstance(ns, name string) *elementsv1alpha1.HubSpotInstance {
	return &elementsv1alpha1.HubSpotInstance{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: elementsv1alpha1.HubSpotInstanceSpec{
			Platform: elementsv1alpha1.PlatformSpec{
				Endpoint:             elementsv1alpha1.HTTPURL(endpoint),
				CredentialsSecretRef: elementsv1alpha1.CredentialsSecretRef{Name: "cloud-elements"},
			},
			Tags: []string{"team-test"},
			Auth: elementsv1alpha1.AuthSpec{Type: elementsv1alpha1.AuthTypeAPIKey,
				APIKey: &elementsv1alpha1.APIKeyAuth{SecretRef: elementsv1alpha1.SecretKeySelector{Name: "hubspot-key", Key: "api-key"}}},
			PollInterval: &metav1.Duration{Duration: time.Minute},
		},
	}
}

func key(obj client.Object) client.ObjectKey { return client.ObjectKeyFromObject(obj) }

func get(k client.ObjectKey) *elementsv1alpha1.HubSpotInstance {
	obj := &elementsv1alpha1.HubSpotInstance{}
	Expect(k8sClient.Get(ctx, k, obj)).To(Succeed())
	return obj
}

func ready(k client.ObjectKey) *metav1.Condition {
	obj := &elementsv1alpha1.HubSpotInstance{}
	if err := k8sClient.Get(ctx, k, obj); err != nil {
		return nil
	}
	return meta.FindStatusCondition(obj.Status.Conditions, elementsv1alpha1.ConditionReady)
}

// eventuallyReason waits until Ready carries reason (and the generation was
// observed), and returns the object.
func eventuallyReason(k client.ObjectKey, reason string) *elementsv1alpha1.HubSpotInstance {
	var obj *elementsv1alpha1.HubSpotInstance
	Eventually(func(g Gomega) {
		obj = &elementsv1alpha1.HubSpotInstance{}
		g.Expect(k8sClient.Get(ctx, k, obj)).To(Succeed())
		c := meta.FindStatusCondition(obj.Status.Conditions, elementsv1alpha1.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(obj.Status.ObservedGeneration).To(Equal(obj.Generation))
		g.Expect(c.Reason).To(Equal(reason), "message: %s", c.Message)
	}).WithTimeout(20 * time.Second).WithPolling(50 * time.Millisecond).Should(Succeed())
	return obj
}

func eventuallyReady(k client.ObjectKey) *elementsv1alpha1.HubSpotInstance {
	obj := eventuallyReason(k, elementsv1alpha1.ReasonAvailable)
	Expect(meta.IsStatusConditionTrue(obj.Status.Conditions, elementsv1alpha1.ConditionReady)).To(BeTrue())
	return obj
}

func condition(obj *elementsv1alpha1.HubSpotInstance, t string) *metav1.Condition {
	return meta.FindStatusCondition(obj.Status.Conditions, t)
}

func tokenSecret(ns, name string) *corev1.Secret {
	s := &corev1.Secret{}
	Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, s)).To(Succeed())
	return s
}

// simInstance is the simulator's own record of an instance.
func simInstance(id int64) cloudelements.Instance {
	inst, ok := sim.Instance(id)
	Expect(ok).To(BeTrue(), "instance %d at the simulator", id)
	return inst
}

// instancesOwnedBy counts the simulator's instances carrying an object's owner tag.
func instancesOwnedBy(obj *elementsv1alpha1.HubSpotInstance) int {
	tag := obj.OwnerTag()
	n := 0
	for _, inst := range sim.Instances() {
		for _, t := range inst.Tags {
			if t == tag {
				n++
			}
		}
	}
	return n
}

// forceReconcile runs the reconciler directly, as a resync would.
func forceReconcile(k client.ObjectKey) reconcile.Result {
	res, err := reconciler.Reconcile(ctx, reconcile.Request{NamespacedName: k})
	Expect(err).NotTo(HaveOccurred())
	return res
}

// requestReconcile asks for a reconcile the way Flux users do.
func requestReconcile(k client.ObjectKey) {
	obj := get(k)
	patch := client.MergeFrom(obj.DeepCopy())
	if obj.Annotations == nil {
		obj.Annotations = map[string]string{}
	}
	obj.Annotations[elementsv1alpha1.ReconcileRequestAnnotation] = strconv.FormatInt(time.Now().UnixNano(), 10)
	Expect(k8sClient.Patch(ctx, obj, patch)).To(Succeed())
}

// deleteAndWait deletes an object and waits until its finalizer let it go.
func deleteAndWait(obj *elementsv1alpha1.HubSpotInstance) {
	Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, obj))).To(Succeed())
	Eventually(func() bool {
		err := k8sClient.Get(ctx, key(obj), &elementsv1alpha1.HubSpotInstance{})
		return apierrors.IsNotFound(err)
	}).WithTimeout(20 * time.Second).Should(BeTrue())
}

// eventsAbout lists the Events about obj.
func eventsAbout(obj *elementsv1alpha1.HubSpotInstance) []corev1.Event {
	var list corev1.EventList
	Expect(k8sClient.List(ctx, &list, client.InNamespace(obj.Namespace))).To(Succeed())
	return slices.DeleteFunc(list.Items, func(e corev1.Event) bool { return e.InvolvedObject.UID != obj.UID })
}

func eventReasons(obj *elementsv1alpha1.HubSpotInstance) []string {
	var reasons []string
	for _, e := range eventsAbout(obj) {
		reasons = append(reasons, e.Reason)
	}
	return reasons
}

// eventNotes are the messages of the Events about obj.
func eventNotes(obj *elementsv1alpha1.HubSpotInstance) []string {
	var notes []string
	for _, e := range eventsAbout(obj) {
		notes = append(notes, e.Message)
	}
	return notes
}

// updateSpec changes an object the way a person would, again on a conflict
// with the operator's own writes.
func updateSpec(k client.ObjectKey, change func(*elementsv1alpha1.HubSpotInstance)) {
	Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
		obj := get(k)
		change(obj)
		return k8sClient.Update(ctx, obj)
	})).To(Succeed())
}

// inManagerCache waits until the manager's cache has seen a Secret, so that
// its late arrival cannot wake an object a spec watches for quiet.
func inManagerCache(ns, name string) {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	Eventually(func() error { return writes.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, m) }).Should(Succeed())
}
