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
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/callback"
	"github.com/hubspot-operator/hubspot-operator/internal/oauthstate"
)

var _ = Describe("A flood of forged callbacks", func() {
	It("does not keep a genuine consent from being answered", func() {
		namespace := newNamespace()
		obj := oauth2Instance(namespace, "crm", "http://127.0.0.1:9/elements/api-v2", "https://operator.example.com/oauth/callback")
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		state, _ := awaitConsent(obj)

		// The production limits: the point is that their defaults hold.
		server := callback.NewServer("127.0.0.1:0", callback.NewHandler(k8sClient, k8sClient, signer))
		serverCtx, stopServer := context.WithCancel(ctx)
		DeferCleanup(stopServer)
		go func() { _ = server.Start(serverCtx) }()
		Eventually(server.Addr).NotTo(BeEmpty())
		base := "http://" + server.Addr() + callback.Path + "?"

		// Forged as an attacker can: well-formed, signed with a key that is
		// not the operator's, so only the signature tells them apart.
		forger, err := oauthstate.NewSigner([]byte(strings.Repeat("f", oauthstate.MinKeySize)), 0)
		Expect(err).NotTo(HaveOccurred())
		forgedState, _, err := forger.Issue(namespace, "crm", string(obj.UID))
		Expect(err).NotTo(HaveOccurred())
		forged := base + callbackQuery("code", "forged", "state", forgedState).Encode()

		const clients, perClient = 6, 2000
		transport := &http.Transport{MaxIdleConnsPerHost: clients + 1}
		DeferCleanup(transport.CloseIdleConnections)
		httpClient := &http.Client{Transport: transport, Timeout: 10 * time.Second}
		floodCtx, stopFlood := context.WithTimeout(ctx, 30*time.Second)
		defer stopFlood()
		var throttled, refused atomic.Int64
		var flooding sync.WaitGroup
		for range clients {
			flooding.Add(1)
			go func() {
				defer flooding.Done()
				for range perClient {
					if floodCtx.Err() != nil {
						return
					}
					req, _ := http.NewRequestWithContext(floodCtx, http.MethodGet, forged, nil)
					resp, err := httpClient.Do(req)
					if err != nil {
						continue
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
					switch resp.StatusCode {
					case http.StatusTooManyRequests:
						throttled.Add(1)
					case http.StatusForbidden:
						refused.Add(1)
					}
				}
			}()
		}

		// Only once the forged callbacks have run into their limit does the
		// genuine one arrive, while they go on.
		Eventually(throttled.Load).Should(BeNumerically(">", 100), "the flood never reached the rate limit")
		resp, err := httpClient.Get(base + callbackQuery("code", "genuine-code", "state", state).Encode())
		Expect(err).NotTo(HaveOccurred())
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		floodStillRunning := floodCtx.Err() == nil
		stopFlood()
		flooding.Wait()

		GinkgoWriter.Printf("forged callbacks: %d answered 429, %d answered 403; the genuine one: %d\n",
			throttled.Load(), refused.Load(), resp.StatusCode)
		Expect(resp.StatusCode).To(Equal(http.StatusOK), string(body))
		Expect(floodStillRunning).To(BeTrue(), "the genuine consent must be answered during the flood")
		sec, err := callbackSecretOf(obj)
		Expect(err).NotTo(HaveOccurred())
		Expect(sec.Data).To(HaveKeyWithValue(elementsv1alpha1.CallbackCodeKey, []byte("genuine-code")))
		Expect(refused.Load()).To(BeNumerically(">", 0), "forged callbacks within the limit are refused as forged")
	})
})
