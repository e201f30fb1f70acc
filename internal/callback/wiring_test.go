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
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/hubspot-operator/hubspot-operator/internal/callback"
	"github.com/hubspot-operator/hubspot-operator/internal/oauthstate"
	"github.com/hubspot-operator/hubspot-operator/internal/operator"
)

// freeLoopbackAddress picks a port for a server that wants an address, not
// a listener. Another process could take it in between; on loopback, in a
// test, that is unlikely enough.
func freeLoopbackAddress() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	addr := l.Addr().String()
	Expect(l.Close()).To(Succeed())
	return addr
}

// startManager runs operator.New's manager, with its callback server on addr,
// until the spec ends.
func startManager(namespace, addr, watchLabelSelector string) {
	GinkgoHelper()
	mgr, err := operator.New(ctx, cfg, operator.Options{
		MetricsAddr:          "0",
		ProbeAddr:            "0",
		LeaderElectionID:     "callback-wiring-test",
		LeaseDuration:        15 * time.Second,
		RenewDeadline:        10 * time.Second,
		RetryPeriod:          2 * time.Second,
		MaxConcurrent:        1,
		CloudElementsQPS:     10,
		CloudElementsBurst:   10,
		CloudElementsTimeout: 5 * time.Second,
		WatchNamespaces:      namespace, // nothing to reconcile: only the server is under test
		WatchLabelSelector:   watchLabelSelector,
		CallbackAddr:         addr,
		OperatorNamespace:    namespace,
		StateKeySecret:       "oauth-state-key",
		StateTTL:             oauthstate.DefaultTTL,
	})
	Expect(err).NotTo(HaveOccurred())
	managerCtx, stop := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(stopped)
		Expect(mgr.Start(managerCtx)).To(Succeed())
	}()
	DeferCleanup(func() {
		stop()
		Eventually(stopped).WithTimeout(time.Minute).Should(BeClosed())
	})
	Eventually(func() error {
		_, err := http.Get("http://" + addr + callback.Path)
		return err
	}).Should(Succeed())
}

var _ = Describe("operator.New", func() {
	It("serves OAuth callbacks on --oauth-callback-bind-address, verifying states with the operator's key", func() {
		namespace := newNamespace()
		addr := freeLoopbackAddress()
		startManager(namespace, addr, "")

		get := func(query url.Values) (int, string) {
			GinkgoHelper()
			resp, err := http.Get("http://" + addr + callback.Path + "?" + query.Encode())
			Expect(err).NotTo(HaveOccurred())
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			Expect(err).NotTo(HaveOccurred())
			return resp.StatusCode, string(body)
		}
		status, _ := get(callbackQuery("code", "c"))
		Expect(status).To(Equal(http.StatusBadRequest))

		By("accepting the signature of the key operator.New created")
		keySecret := &corev1.Secret{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "oauth-state-key"}, keySecret)).To(Succeed())
		operatorSigner, err := oauthstate.NewSigner(keySecret.Data["key"], 0)
		Expect(err).NotTo(HaveOccurred())
		state, _, err := operatorSigner.Issue(namespace, "nobody", "0b5e55ed-0000-4000-8000-000000000000")
		Expect(err).NotTo(HaveOccurred())
		status, body := get(callbackQuery("code", "c", "state", state))
		Expect(status).To(Equal(http.StatusNotFound), "an authentic state for a missing object reaches the object check: %s", body)

		By("refusing the signature of any other key")
		state, _, err = signer.Issue(namespace, "nobody", "0b5e55ed-0000-4000-8000-000000000000")
		Expect(err).NotTo(HaveOccurred())
		status, _ = get(callbackQuery("code", "c", "state", state))
		Expect(status).To(Equal(http.StatusForbidden))
	})

	It("answers the callback of an object another shard reconciles, so one callback URL serves every shard", func() {
		namespace := newNamespace()
		addr := freeLoopbackAddress()
		startManager(namespace, addr, "sharding.fluxcd.io/key=shard1")

		obj := oauth2Instance(namespace, "in-shard2", "https://api.cloud-elements.com/elements/api-v2", "https://operator.example.com/oauth/callback")
		obj.Labels = map[string]string{"sharding.fluxcd.io/key": "shard2"}
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		keySecret := &corev1.Secret{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "oauth-state-key"}, keySecret)).To(Succeed())
		operatorSigner, err := oauthstate.NewSigner(keySecret.Data["key"], 0)
		Expect(err).NotTo(HaveOccurred())
		state, claims, err := operatorSigner.Issue(namespace, obj.Name, string(obj.UID))
		Expect(err).NotTo(HaveOccurred())
		setNonce(obj, claims)

		resp, err := http.Get("http://" + addr + callback.Path + "?" + callbackQuery("code", "c0de-shard2", "state", state).Encode())
		Expect(err).NotTo(HaveOccurred())
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusOK), string(body))
		sec, err := callbackSecretOf(obj)
		Expect(err).NotTo(HaveOccurred(), "the code is handed to the object's own shard in its callback Secret")
		Expect(sec.Data).NotTo(BeEmpty())
	})
})
