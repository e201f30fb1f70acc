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

package callback_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/controllers"
	"github.com/hubspot-operator/hubspot-operator/internal/callback"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
	"github.com/hubspot-operator/hubspot-operator/internal/operator"
	"github.com/hubspot-operator/hubspot-operator/internal/testclock"
)

const (
	userSecret         = "user-secret-for-the-simulator"
	organizationSecret = "organization-secret-for-the-simulator"
	hubspotClientID    = "hubspot-client-id"
)

// The whole dance, with nothing faked but HubSpot's user: the real
// reconciler in a real manager, the simulator over real HTTP, the callback
// server on a real port, and a browser that follows redirects.
var _ = Describe("The whole OAuth dance", Ordered, func() {
	var (
		namespace   string
		callbackURL string
		clock       *testclock.Clock
		stopManager context.CancelFunc
		stopped     chan struct{}
		browser     = &http.Client{Timeout: 30 * time.Second}
	)

	BeforeAll(func() {
		namespace = newNamespace()
		for name, data := range map[string]map[string]string{
			"cloud-elements": {"user-secret": userSecret, "organization-secret": organizationSecret},
			"hubspot-app":    {"client-id": hubspotClientID, "client-secret": "hubspot-client-secret"},
		} {
			Expect(k8sClient.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, StringData: data})).To(Succeed())
		}

		// Mirrors internal/operator.New, with the reconciler's clock in the
		// test's hands and the cache limited to this spec's namespace.
		mgr, err := ctrl.NewManager(cfg, ctrl.Options{
			Scheme:                 operator.Scheme,
			Metrics:                metricsserver.Options{BindAddress: "0"},
			HealthProbeBindAddress: "0",
			Cache:                  cache.Options{DefaultNamespaces: map[string]cache.Config{namespace: {}}, DefaultTransform: operator.SlimCachedObjects},
			Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
		})
		Expect(err).NotTo(HaveOccurred())
		clock = &testclock.Clock{}
		reconciler := controllers.New(mgr.GetClient(), mgr.GetAPIReader(), mgr.GetEventRecorder(elementsv1alpha1.FieldManager),
			controllers.ClientFactory(&http.Client{Timeout: 10 * time.Second}, 1000, 1000, 0), signer,
			controllers.WithClock(clock.Now), controllers.WithEndpointPolicy(controllers.EndpointPolicy{AllowLoopback: true}))
		Expect(reconciler.SetupWithManager(ctx, mgr, controller.Options{
			MaxConcurrentReconciles: 4, RateLimiter: controllers.DefaultRateLimiter(),
		})).To(Succeed())
		server := callback.NewServer("127.0.0.1:0", callback.NewHandler(mgr.GetAPIReader(), mgr.GetClient(), signer,
			callback.WithEventRecorder(mgr.GetEventRecorder(elementsv1alpha1.FieldManager))))
		Expect(mgr.Add(server)).To(Succeed())

		var managerCtx context.Context
		managerCtx, stopManager = context.WithCancel(ctx)
		stopped = make(chan struct{})
		go func() {
			defer GinkgoRecover()
			defer close(stopped)
			Expect(mgr.Start(managerCtx)).To(Succeed())
		}()
		Eventually(server.Addr).ShouldNot(BeEmpty())
		callbackURL = "http://" + server.Addr() + callback.Path
	})

	AfterAll(func() {
		stopManager()
		Eventually(stopped).WithTimeout(time.Minute).Should(BeClosed())
	})

	// Each spec's object is deleted while the manager and the spec's
	// simulator still run (an AfterEach, unlike a spec's DeferCleanup, is
	// certain to run before AfterAll): the finalizer deletes the instance.
	var simulatorServer *httptest.Server
	var specObjects []*elementsv1alpha1.HubSpotInstance
	AfterEach(func() {
		for _, obj := range specObjects {
			Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, obj))).To(Succeed())
			Eventually(func() bool {
				return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), &elementsv1alpha1.HubSpotInstance{}))
			}).Should(BeTrue(), "the finalizer should let the object go")
		}
		specObjects = nil
		if simulatorServer != nil {
			simulatorServer.Close()
			simulatorServer = nil
		}
	})

	// newSimulator starts a fresh Cloud Elements for one spec.
	newSimulator := func() (*simulator.Simulator, string) {
		sim := simulator.New(simulator.Options{UserSecret: userSecret, OrganizationSecret: organizationSecret})
		simulatorServer = httptest.NewServer(sim)
		return sim, simulatorServer.URL + simulator.APIPrefix
	}

	create := func(obj *elementsv1alpha1.HubSpotInstance) {
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		specObjects = append(specObjects, obj)
	}

	ready := func(obj *elementsv1alpha1.HubSpotInstance) func(Gomega) string {
		return func(g Gomega) string {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
			c := meta.FindStatusCondition(obj.Status.Conditions, elementsv1alpha1.ConditionReady)
			if c == nil {
				return ""
			}
			return string(c.Status) + "/" + c.Reason
		}
	}

	// published waits for a consent link other than the one given, and
	// reads it where a person does: from the Secret status names, never
	// from status itself.
	published := func(obj *elementsv1alpha1.HubSpotInstance, previousNonce string) (string, string) {
		GinkgoHelper()
		var link string
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
			g.Expect(obj.Status.AuthorizationNonce).NotTo(BeEmpty())
			g.Expect(obj.Status.AuthorizationNonce).NotTo(Equal(previousNonce))
			g.Expect(obj.Status.AuthorizationSecretName).To(Equal(obj.Name + "-oauth-consent"))
			sec := &corev1.Secret{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: obj.Namespace, Name: obj.Status.AuthorizationSecretName}, sec)).To(Succeed())
			g.Expect(metav1.IsControlledBy(sec, obj)).To(BeTrue())
			g.Expect(sec.Annotations).To(HaveKeyWithValue(elementsv1alpha1.AuthorizationNonceAnnotation, obj.Status.AuthorizationNonce))
			link = string(sec.Data[elementsv1alpha1.AuthorizationURLKey])
			g.Expect(link).To(ContainSubstring("state="))
		}).Should(Succeed())
		raw, err := json.Marshal(obj.Status)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(raw)).NotTo(ContainSubstring("state="), "status must not carry a usable link")
		return link, obj.Status.AuthorizationNonce
	}

	expectConsentLinkGone := func(obj *elementsv1alpha1.HubSpotInstance) {
		GinkgoHelper()
		Eventually(func() bool {
			err := k8sClient.Get(ctx, client.ObjectKey{Namespace: obj.Namespace, Name: obj.AuthorizationSecretName()}, &corev1.Secret{})
			return apierrors.IsNotFound(err)
		}).Should(BeTrue(), "the reconciler deletes the consent link once it is of no use")
	}

	// consent is the person: open the link, let HubSpot's (simulated) page
	// redirect to the callback, and read what the operator answers. Options
	// change what the simulated HubSpot does.
	consent := func(authorizationURL string, options ...func(url.Values)) string {
		GinkgoHelper()
		u, err := url.Parse(authorizationURL)
		Expect(err).NotTo(HaveOccurred())
		q := u.Query()
		for _, option := range options {
			option(q)
		}
		u.RawQuery = q.Encode()
		resp, err := browser.Get(u.String())
		Expect(err).NotTo(HaveOccurred())
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.StatusCode).To(Equal(http.StatusOK), string(body))
		Expect(resp.Request.URL.Path).To(Equal(callback.Path), "the browser should have landed on the callback")
		Expect(resp.Header.Get("Content-Type")).To(Equal("text/html; charset=utf-8"))
		return string(body)
	}

	deny := func(q url.Values) { q.Set("simulate", "deny") }
	// codeForAnotherApp makes HubSpot issue a code Cloud Elements will refuse.
	codeForAnotherApp := func(q url.Values) { q.Set("client_id", "another-hubspot-app") }

	expectCallbackSecretGone := func(obj *elementsv1alpha1.HubSpotInstance) {
		GinkgoHelper()
		Eventually(func() bool {
			_, err := callbackSecretOf(obj)
			return apierrors.IsNotFound(err)
		}).Should(BeTrue(), "the reconciler deletes a used code")
	}

	expectToken := func(obj *elementsv1alpha1.HubSpotInstance, sim *simulator.Simulator) {
		GinkgoHelper()
		instances := sim.Instances()
		Expect(instances).To(HaveLen(1), "exactly one instance at Cloud Elements")
		Expect(obj.Status.InstanceID).To(Equal(instances[0].ID))
		token := &corev1.Secret{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: obj.Namespace, Name: obj.Name + "-element-token"}, token)).To(Succeed())
		Expect(string(token.Data[elementsv1alpha1.TokenKey])).To(Equal(instances[0].Token))
		Expect(metav1.IsControlledBy(token, obj)).To(BeTrue())
	}

	requestReconcile := func(obj *elementsv1alpha1.HubSpotInstance, value string) {
		GinkgoHelper()
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		patch := client.MergeFrom(obj.DeepCopy())
		if obj.Annotations == nil {
			obj.Annotations = map[string]string{}
		}
		obj.Annotations[elementsv1alpha1.ReconcileRequestAnnotation] = value
		Expect(k8sClient.Patch(ctx, obj, patch)).To(Succeed())
	}

	It("turns consent into an element instance and its token", func() {
		sim, endpoint := newSimulator()
		obj := oauth2Instance(namespace, "consented", endpoint, callbackURL)
		create(obj)

		authorizationURL, _ := published(obj, "")
		Eventually(ready(obj)).Should(Equal("False/" + elementsv1alpha1.ReasonAwaitingAuthorization))
		Expect(sim.Instances()).To(BeEmpty())

		page := consent(authorizationURL)
		Expect(page).To(ContainSubstring("Authorization received"))
		Expect(page).To(ContainSubstring("kubectl get hsi -n " + namespace + " consented"))

		Eventually(ready(obj)).Should(Equal("True/" + elementsv1alpha1.ReasonAvailable))
		expectToken(obj, sim)
		expectCallbackSecretGone(obj)
		expectConsentLinkGone(obj)
		Expect(obj.Status.AuthorizationSecretName).To(BeEmpty())
		Expect(obj.Status.AuthorizationNonce).To(BeEmpty())
		Expect(sim.Count(simulator.OpCreate, http.StatusOK)).To(Equal(1))

		By("refusing the same link a second time")
		resp, err := browser.Get(authorizationURL)
		Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusConflict))
		Consistently(ready(obj)).WithTimeout(2 * time.Second).Should(Equal("True/" + elementsv1alpha1.ReasonAvailable))
		Expect(sim.Instances()).To(HaveLen(1))
	})

	It("records a refusal of consent, and publishes a fresh link when asked", func() {
		sim, endpoint := newSimulator()
		obj := oauth2Instance(namespace, "declined", endpoint, callbackURL)
		create(obj)
		authorizationURL, firstNonce := published(obj, "")

		page := consent(authorizationURL, deny)
		Expect(page).To(ContainSubstring("Consent was not given"))
		Expect(page).To(ContainSubstring("access_denied"))

		Eventually(ready(obj)).Should(Equal("False/" + elementsv1alpha1.ReasonAuthorizationDenied))
		Expect(meta.IsStatusConditionTrue(obj.Status.Conditions, elementsv1alpha1.ConditionStalled)).To(BeTrue())
		Expect(sim.Instances()).To(BeEmpty())
		expectConsentLinkGone(obj)
		Eventually(func(g Gomega) []string {
			var list eventsv1.EventList
			g.Expect(k8sClient.List(ctx, &list, client.InNamespace(namespace))).To(Succeed())
			var found []string
			for _, e := range list.Items {
				if e.Regarding.Name == obj.Name && e.Regarding.Kind == "HubSpotInstance" && e.Type == corev1.EventTypeWarning {
					found = append(found, e.Reason+"/"+e.Action)
				}
			}
			return found
		}).Should(ContainElement(elementsv1alpha1.EventReasonAuthorizationDenied + "/Callback"))

		By("asking for a fresh link with " + elementsv1alpha1.ReconcileRequestAnnotation)
		requestReconcile(obj, "retry-1")
		freshURL, freshNonce := published(obj, firstNonce)
		Expect(freshNonce).NotTo(Equal(firstNonce))
		Expect(freshURL).NotTo(Equal(authorizationURL))
		Eventually(ready(obj)).Should(Equal("False/" + elementsv1alpha1.ReasonAwaitingAuthorization))
		expectCallbackSecretGone(obj)

		By("consenting through the fresh link")
		consent(freshURL)
		Eventually(ready(obj)).Should(Equal("True/" + elementsv1alpha1.ReasonAvailable))
		expectToken(obj, sim)
	})

	It("publishes a fresh link when Cloud Elements refuses the code", func() {
		sim, endpoint := newSimulator()
		obj := oauth2Instance(namespace, "refused", endpoint, callbackURL)
		create(obj)
		authorizationURL, firstNonce := published(obj, "")

		Expect(consent(authorizationURL, codeForAnotherApp)).To(ContainSubstring("Authorization received"))

		// The used link is gone from status at once, so the reconciler
		// publishes a new one as soon as the refused code is dropped.
		freshURL, _ := published(obj, firstNonce)
		Eventually(ready(obj)).Should(Equal("False/" + elementsv1alpha1.ReasonAwaitingAuthorization))
		expectCallbackSecretGone(obj)
		Expect(sim.Instances()).To(BeEmpty())
		Expect(sim.Count(simulator.OpCreate, http.StatusBadRequest)).To(Equal(1))

		consent(freshURL)
		Eventually(ready(obj)).Should(Equal("True/" + elementsv1alpha1.ReasonAvailable))
		expectToken(obj, sim)
	})

	It("re-authorizes a lapsed instance in place", func() {
		sim, endpoint := newSimulator()
		obj := oauth2Instance(namespace, "lapsed", endpoint, callbackURL)
		obj.Spec.PollInterval = &metav1.Duration{Duration: 30 * time.Second}
		create(obj)
		authorizationURL, _ := published(obj, "")
		consent(authorizationURL)
		Eventually(ready(obj)).Should(Equal("True/" + elementsv1alpha1.ReasonAvailable))
		expectToken(obj, sim)
		id := obj.Status.InstanceID

		By("HubSpot revoking the app, and the next drift poll noticing")
		Expect(sim.Invalidate(id)).To(Succeed())
		clock.Advance(time.Minute) // pollInterval plus its jitter
		requestReconcile(obj, "poll-now")
		Eventually(ready(obj)).Should(Equal("False/" + elementsv1alpha1.ReasonReauthorizationRequired))
		reauthorizationURL, _ := published(obj, "")

		By("consenting again")
		consent(reauthorizationURL)
		Eventually(ready(obj)).Should(Equal("True/" + elementsv1alpha1.ReasonAvailable))
		Expect(sim.Count(simulator.OpReauthorize, http.StatusOK)).To(Equal(1))
		Expect(sim.Count(simulator.OpCreate, http.StatusOK)).To(Equal(1), "re-authorization must not create a second instance")
		Expect(obj.Status.InstanceID).To(Equal(id))
		Expect(obj.Status.Valid).To(BeTrue())
		expectToken(obj, sim)
		expectCallbackSecretGone(obj)
		expectConsentLinkGone(obj)
	})
})
