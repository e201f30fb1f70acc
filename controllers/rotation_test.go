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
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/keyedrate"
)

var _ = Describe("credentials rewritten in a loop", func() {
	It("leave no retry budget behind per rotation, once they are no longer used", func() {
		// Credentials the platform refuses: the object fails, so each
		// reconcile after the first is a retry, drawn from the budget of the
		// account its credentials name, a new one at every rotation.
		ns := newNamespace()
		sim.ClearFaults()
		createSecret(ns, "cloud-elements", map[string]string{"user-secret": "refused-user-secret", "organization-secret": orgSecret})
		createSecret(ns, "hubspot-key", map[string]string{"api-key": "k"})
		obj := apiKeyInstance(ns, "rotating")
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		eventuallyReason(key(obj), elementsv1alpha1.ReasonUnauthorized)

		const rotations = 20
		userSecretOf := func(i int) string { return fmt.Sprintf("rotated-user-secret-%d", i) }
		rotate := func(i int) {
			GinkgoHelper()
			Expect(k8sClient.Update(ctx, secret(ns, "cloud-elements", map[string]string{
				"user-secret": userSecretOf(i), "organization-secret": orgSecret}))).To(Succeed())
		}
		held := func() (n int) {
			for i := range rotations {
				if reconciler.HoldsRetryBudget(endpoint, userSecretOf(i), orgSecret) {
					n++
				}
			}
			return n
		}
		for i := range rotations {
			rotate(i)
			Eventually(held).WithTimeout(20*time.Second).Should(Equal(i+1),
				func() string { return fmt.Sprintf("rotation %d drew on a budget of its own; %+v", i, ready(key(obj))) })
		}

		// Once the rotated credentials have been idle for a while, the next
		// use of any budget forgets theirs.
		clock.Advance(keyedrate.DefaultIdle + time.Minute)
		rotate(rotations)
		Eventually(held).WithTimeout(20*time.Second).Should(BeZero(), "only the budgets in use are held")

		restoreCredentials(ns)
		eventuallyReady(key(obj))
	})
})
