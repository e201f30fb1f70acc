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
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
	"github.com/hubspot-operator/hubspot-operator/internal/operator"
)

// consentLink reads the consent-link Secret an object names, as a person
// allowed to read the namespace's Secrets does.
func consentLink(obj *elementsv1alpha1.HubSpotInstance) *corev1.Secret {
	GinkgoHelper()
	Expect(obj.Status.AuthorizationSecretName).To(Equal(obj.AuthorizationSecretName()))
	sec := &corev1.Secret{}
	Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: obj.Namespace, Name: obj.Status.AuthorizationSecretName}, sec)).To(Succeed())
	Expect(sec.Annotations).To(HaveKeyWithValue(elementsv1alpha1.AuthorizationNonceAnnotation, obj.Status.AuthorizationNonce),
		"the Secret holds the link status names")
	return sec
}

func expectNoConsentLink(obj *elementsv1alpha1.HubSpotInstance) {
	GinkgoHelper()
	err := k8sClient.Get(ctx, client.ObjectKey{Namespace: obj.Namespace, Name: obj.AuthorizationSecretName()}, &corev1.Secret{})
	Expect(apierrors.IsNotFound(err)).To(BeTrue(), "want no consent-link Secret, got err=%v", err)
}

// oauthAwaitingConsent is an OAuth 2 object without a code: it waits for consent.
func oauthAwaitingConsent(ns, name string) *elementsv1alpha1.HubSpotInstance {
	obj := apiKeyInstance(ns, name)
	obj.Spec.Auth = elementsv1alpha1.AuthSpec{Type: elementsv1alpha1.AuthTypeOAuth2, OAuth2: &elementsv1alpha1.OAuth2Auth{
		ClientSecretRef: elementsv1alpha1.OAuthClientSecretRef{Name: "hubspot-app"},
		Scopes:          []string{"contacts"},
		CallbackURL:     "https://operator.example.com/oauth/callback",
	}}
	return obj
}

// clusterRoleFrom loads a ClusterRole the operator ships in config/rbac.
func clusterRoleFrom(file string) *rbacv1.ClusterRole {
	GinkgoHelper()
	raw, err := os.ReadFile(filepath.Join("..", "config", "rbac", file))
	Expect(err).NotTo(HaveOccurred())
	role := &rbacv1.ClusterRole{}
	Expect(yaml.UnmarshalStrict(raw, role)).To(Succeed())
	return role
}

// userWith is a client for a new user holding, in namespace ns, the given
// ClusterRoles and rules.
func userWith(ns, name string, clusterRoles []string, rules []rbacv1.PolicyRule) client.Client {
	GinkgoHelper()
	user, err := testEnv.AddUser(envtest.User{Name: name}, nil)
	Expect(err).NotTo(HaveOccurred())
	subject := rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}
	for _, role := range clusterRoles {
		Expect(k8sClient.Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-" + role},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects:   []rbacv1.Subject{subject},
		})).To(Succeed())
	}
	if len(rules) > 0 {
		Expect(k8sClient.Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Rules: rules})).To(Succeed())
		Expect(k8sClient.Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
			Subjects:   []rbacv1.Subject{subject},
		})).To(Succeed())
	}
	c, err := client.New(user.Config(), client.Options{Scheme: operator.Scheme})
	Expect(err).NotTo(HaveOccurred())
	return c
}

// nudge touches a Secret the objects in ns read, so that each is reconciled
// through the workqueue, as any change of an input would.
func nudge(ns string) {
	GinkgoHelper()
	patch := []byte(`{"metadata":{"labels":{"nudged":"` + strconv.FormatInt(time.Now().UnixNano(), 10) + `"}}}`)
	Expect(k8sClient.Patch(ctx, secret(ns, "hubspot-app", nil), client.RawPatch(types.MergePatchType, patch))).To(Succeed())
}

var _ = Describe("The OAuth 2 consent link", func() {
	var ns string

	BeforeEach(func() {
		ns = newNamespace()
		sim.ClearFaults()
		createCredentials(ns)
		createSecret(ns, "hubspot-app", map[string]string{"client-id": "oauth-client", "client-secret": "oauth-client-secret"})
	})

	It("is readable by those who may read the namespace's Secrets, and by no viewer or editor of HubSpotInstances", func() {
		// The ClusterRoles the operator ships, under their own names.
		for _, file := range []string{"hubspotinstance_viewer_role.yaml", "hubspotinstance_editor_role.yaml"} {
			Expect(client.IgnoreAlreadyExists(k8sClient.Create(ctx, clusterRoleFrom(file)))).To(Succeed())
		}
		obj := oauthAwaitingConsent(ns, "crm")
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		waiting := eventuallyReason(key(obj), elementsv1alpha1.ReasonAwaitingAuthorization)
		link := string(consentLink(waiting).Data[elementsv1alpha1.AuthorizationURLKey])
		u, err := url.Parse(link)
		Expect(err).NotTo(HaveOccurred())
		state := u.Query().Get("state")
		Expect(state).NotTo(BeEmpty(), "the link carries the signed state")
		command := "kubectl get secret crm-oauth-consent -n " + ns + " -o jsonpath='{.data.url}' | base64 -d"

		// The built-in view and edit roles are the union of the roles
		// labelled to aggregate into them; the test cluster runs no
		// aggregation controller, so their parts are bound directly.
		By("a viewer (hubspotinstance-viewer-role, and the rest of the built-in view) reads the object but no usable state")
		viewer := userWith(ns, ns+"-viewer", []string{"hubspotinstance-viewer-role", "system:aggregate-to-view"}, nil)
		seen := &unstructured.Unstructured{}
		seen.SetGroupVersionKind(elementsv1alpha1.GroupVersion.WithKind("HubSpotInstance"))
		Expect(viewer.Get(ctx, key(obj), seen)).To(Succeed())
		raw, err := json.Marshal(seen.Object)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(raw)).NotTo(ContainSubstring(state), "the signed state must not be in anything a viewer reads")
		Expect(string(raw)).NotTo(ContainSubstring("state="))
		Expect(string(raw)).NotTo(ContainSubstring("/oauth/authorize"))
		status, _, _ := unstructured.NestedMap(seen.Object, "status")
		Expect(status).NotTo(HaveKey("authorizationURL"))
		Expect(status).To(HaveKeyWithValue("authorizationSecretName", "crm-oauth-consent"))
		viewed := &elementsv1alpha1.HubSpotInstance{}
		Expect(viewer.Get(ctx, key(obj), viewed)).To(Succeed())
		Expect(condition(viewed, elementsv1alpha1.ConditionReady).Message).To(ContainSubstring(command),
			"the condition tells the one command that prints the link")
		Expect(apierrors.IsForbidden(viewer.Get(ctx, client.ObjectKey{Namespace: ns, Name: "crm-oauth-consent"}, &corev1.Secret{}))).To(BeTrue())
		Expect(apierrors.IsForbidden(viewer.List(ctx, &corev1.SecretList{}, client.InNamespace(ns)))).To(BeTrue())

		By("an editor of HubSpotInstances (hubspotinstance-editor-role) cannot read it either")
		editor := userWith(ns, ns+"-editor", []string{"hubspotinstance-editor-role"}, nil)
		Expect(editor.Get(ctx, key(obj), &elementsv1alpha1.HubSpotInstance{})).To(Succeed())
		Expect(apierrors.IsForbidden(editor.Get(ctx, client.ObjectKey{Namespace: ns, Name: "crm-oauth-consent"}, &corev1.Secret{}))).To(BeTrue())

		By("whoever may read the namespace's Secrets — and so the account credentials already — reads the link")
		reader := userWith(ns, ns+"-secret-reader", nil, []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}}})
		got := &corev1.Secret{}
		Expect(reader.Get(ctx, client.ObjectKey{Namespace: ns, Name: "crm-oauth-consent"}, got)).To(Succeed())
		Expect(string(got.Data[elementsv1alpha1.AuthorizationURLKey])).To(Equal(link))
		Expect(reader.Get(ctx, client.ObjectKey{Namespace: ns, Name: "cloud-elements"}, &corev1.Secret{})).To(Succeed())
		// So does the built-in edit role, which grants Secrets.
		nsEditor := userWith(ns, ns+"-edit", []string{"hubspotinstance-editor-role", "system:aggregate-to-edit"}, nil)
		Expect(nsEditor.Get(ctx, client.ObjectKey{Namespace: ns, Name: "crm-oauth-consent"}, &corev1.Secret{})).To(Succeed())
	})

	It("is written only when it changes, replaced before it expires, and deleted once the instance is valid", func() {
		obj := oauthAwaitingConsent(ns, "quiet")
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		waiting := eventuallyReason(key(obj), elementsv1alpha1.ReasonAwaitingAuthorization)
		first := consentLink(waiting)

		By("at rest, reconciles write nothing")
		urls := sim.Total(simulator.OpOAuthURL)
		for range 3 {
			clock.Advance(time.Minute)
			forceReconcile(key(obj))
		}
		Consistently(func(g Gomega) {
			sec := &corev1.Secret{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(first), sec)).To(Succeed())
			g.Expect(sec.ResourceVersion).To(Equal(first.ResourceVersion))
			g.Expect(get(key(obj)).ResourceVersion).To(Equal(waiting.ResourceVersion))
		}).WithTimeout(2 * time.Second).Should(Succeed())
		Expect(sim.Total(simulator.OpOAuthURL)).To(Equal(urls), "no new link was asked for")

		By("shortly before the link expires, a fresh one replaces it in the same Secret")
		clock.Advance(15 * time.Minute)
		nudge(ns) // a reconcile through the workqueue, which is not a request for a fresh link
		var fresh *elementsv1alpha1.HubSpotInstance
		Eventually(func(g Gomega) {
			fresh = get(key(obj))
			g.Expect(fresh.Status.AuthorizationNonce).NotTo(Equal(waiting.Status.AuthorizationNonce))
		}).WithTimeout(10 * time.Second).Should(Succeed())
		second := consentLink(fresh)
		Expect(second.UID).To(Equal(first.UID))
		Expect(second.ResourceVersion).NotTo(Equal(first.ResourceVersion))
		Expect(second.Data[elementsv1alpha1.AuthorizationURLKey]).NotTo(Equal(first.Data[elementsv1alpha1.AuthorizationURLKey]))
		Expect(metav1.IsControlledBy(second, fresh)).To(BeTrue())

		By("a Secret with the link deleted by hand is written again")
		Expect(k8sClient.Delete(ctx, second)).To(Succeed())
		Eventually(func(g Gomega) {
			now := get(key(obj))
			sec := &corev1.Secret{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "quiet-oauth-consent"}, sec)).To(Succeed())
			g.Expect(sec.UID).NotTo(Equal(second.UID))
			g.Expect(sec.Annotations).To(HaveKeyWithValue(elementsv1alpha1.AuthorizationNonceAnnotation, now.Status.AuthorizationNonce))
		}).WithTimeout(10 * time.Second).Should(Succeed())

		By("the callback hands over a code: the instance is created and the link deleted")
		Expect(k8sClient.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: obj.CallbackSecretName(),
				OwnerReferences: []metav1.OwnerReference{{APIVersion: elementsv1alpha1.GroupVersion.String(), Kind: "HubSpotInstance",
					Name: obj.Name, UID: get(key(obj)).UID, Controller: ptr.To(true)}}},
			Data: map[string][]byte{elementsv1alpha1.CallbackCodeKey: []byte(sim.IssueCode("oauth-client"))},
		})).To(Succeed())
		ready := eventuallyReady(key(obj))
		Expect(ready.Status.AuthorizationSecretName).To(BeEmpty())
		Expect(ready.Status.AuthorizationNonce).To(BeEmpty())
		Expect(ready.Status.AuthorizationExpiresAt).To(BeNil())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "quiet-oauth-consent"}, &corev1.Secret{}))
		}).WithTimeout(10 * time.Second).Should(BeTrue())
	})

	It("goes away with its object", func() {
		obj := oauthAwaitingConsent(ns, "short-lived")
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		link := consentLink(eventuallyReason(key(obj), elementsv1alpha1.ReasonAwaitingAuthorization))
		deleteAndWait(obj)
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(link), &corev1.Secret{}))
		}).WithTimeout(30*time.Second).Should(BeTrue(), "garbage-collected with the object")
	})

	It("is never written into a Secret of its name that the object does not own", func() {
		theirs := createSecret(ns, "taken-oauth-consent", map[string]string{"url": "https://example.com/theirs"})
		obj := oauthAwaitingConsent(ns, "taken")
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		got := eventuallyReason(key(obj), elementsv1alpha1.ReasonSecretConflict)
		Expect(condition(got, elementsv1alpha1.ConditionReady).Message).To(ContainSubstring("taken-oauth-consent"))
		Expect(condition(got, elementsv1alpha1.ConditionStalled)).NotTo(BeNil())
		Expect(got.Status.AuthorizationSecretName).To(BeEmpty())
		after := tokenSecret(ns, "taken-oauth-consent")
		Expect(after.ResourceVersion).To(Equal(theirs.ResourceVersion))
		Expect(after.OwnerReferences).To(BeEmpty())

		By("once that Secret is gone, the link is published")
		Expect(k8sClient.Delete(ctx, theirs)).To(Succeed())
		consentLink(eventuallyReason(key(obj), elementsv1alpha1.ReasonAwaitingAuthorization))
	})
})
