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
	"fmt"
	"maps"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/hubspot-operator/hubspot-operator/hack/gen-chart/chartgen"
)

const (
	shardKey = "sharding.fluxcd.io/key"
	// defaultLease is the operator's --leader-election-id default, which
	// the main Deployment keeps.
	defaultLease = "hubspot-operator.cloud-elements.io"
)

var twoShards = []string{"--set", "sharding.enabled=true", "--set", "sharding.shards={shard1,shard2}"}

// deploymentsOf returns a render's Deployments by name.
func deploymentsOf(objs []*unstructured.Unstructured) map[string]*appsv1.Deployment {
	out := map[string]*appsv1.Deployment{}
	for _, o := range objs {
		if o.GetKind() != "Deployment" {
			continue
		}
		d := &appsv1.Deployment{}
		Expect(runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(o.Object, d, true)).To(Succeed())
		out[d.Name] = d
	}
	return out
}

// servicesOf returns a render's Services by name.
func servicesOf(objs []*unstructured.Unstructured) map[string]*corev1.Service {
	out := map[string]*corev1.Service{}
	for _, o := range objs {
		if o.GetKind() != "Service" {
			continue
		}
		s := &corev1.Service{}
		Expect(runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(o.Object, s, true)).To(Succeed())
		out[s.Name] = s
	}
	return out
}

// flagValues are the values of one flag in a container's args, in order.
func flagValues(d *appsv1.Deployment, flag string) []string {
	var out []string
	for _, a := range d.Spec.Template.Spec.Containers[0].Args {
		if v, ok := strings.CutPrefix(a, "--"+flag+"="); ok {
			out = append(out, v)
		}
	}
	return out
}

// lease is the Lease a Deployment's pods elect their leader with: the last
// --leader-election-id wins, as with any Go flag.
func lease(d *appsv1.Deployment) string {
	ids := flagValues(d, "leader-election-id")
	if len(ids) == 0 {
		return defaultLease
	}
	return ids[len(ids)-1]
}

func helmOutput(release string, args ...string) string {
	GinkgoHelper()
	out, err := chartgen.HelmTemplate(root, release, operatorNamespace, append([]string{"--include-crds"}, args...)...)
	Expect(err).NotTo(HaveOccurred())
	return string(out)
}

var _ = Describe("The chart with sharding", func() {
	It("off renders exactly what it renders without the sharding values: one Deployment for every object", func() {
		plain := helmOutput("hubspot-operator")
		Expect(helmOutput("hubspot-operator", "--set", "sharding.enabled=false", "--set", "sharding.shards={shard1,shard2}")).To(Equal(plain))
		objs, err := chartgen.Decode([]byte(plain))
		Expect(err).NotTo(HaveOccurred())
		deployments := deploymentsOf(objs)
		Expect(deployments).To(HaveLen(1))
		d := deployments["hubspot-operator-controller-manager"]
		Expect(d).NotTo(BeNil())
		Expect(flagValues(d, "watch-label-selector")).To(BeEmpty())
		Expect(flagValues(d, "leader-election-id")).To(BeEmpty())
		for name, svc := range servicesOf(objs) {
			Expect(svc.Spec.Selector).To(HaveKeyWithValue("control-plane", "controller-manager"), name)
		}
	})

	It("on with two shards renders three Deployments, each with its share of the objects and its own Lease", func() {
		objs := helmTemplate("hubspot-operator", twoShards...)()
		deployments := deploymentsOf(objs)
		Expect(deployments).To(HaveLen(3))
		main := deployments["hubspot-operator-controller-manager"]
		Expect(main).NotTo(BeNil())
		Expect(flagValues(main, "watch-label-selector")).To(Equal([]string{"!" + shardKey}))
		Expect(lease(main)).To(Equal(defaultLease), "the main Deployment keeps the Lease of an install without shards")
		for _, shard := range []string{"shard1", "shard2"} {
			d := deployments["hubspot-operator-controller-manager-"+shard]
			Expect(d).NotTo(BeNil(), "no Deployment for %s among %v", shard, slices.Sorted(maps.Keys(deployments)))
			Expect(flagValues(d, "watch-label-selector")).To(Equal([]string{shardKey + "=" + shard}))
			Expect(lease(d)).To(Equal(defaultLease + "-" + shard))
			// The same pod but for its share: image, ServiceAccount, every other flag.
			Expect(d.Spec.Template.Spec.ServiceAccountName).To(Equal(main.Spec.Template.Spec.ServiceAccountName))
			Expect(d.Spec.Template.Spec.Containers[0].Image).To(Equal(main.Spec.Template.Spec.Containers[0].Image))
			Expect(withoutShardFlags(d)).To(Equal(withoutShardFlags(main)))
		}

		leases := map[string]string{}
		for name, d := range deployments {
			Expect(leases).NotTo(HaveKey(lease(d)), "%s shares a Lease with %s", name, leases[lease(d)])
			leases[lease(d)] = name
		}

		// Each Deployment selects its own pods and nobody else's; both
		// Services select every Deployment's pods.
		services := servicesOf(objs)
		Expect(services).To(HaveKey("hubspot-operator-controller-manager-metrics-service"))
		Expect(services).To(HaveKey("hubspot-operator-oauth-callback"))
		for name, d := range deployments {
			selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
			Expect(err).NotTo(HaveOccurred())
			for other, o := range deployments {
				Expect(selector.Matches(labels.Set(o.Spec.Template.Labels))).To(Equal(other == name),
					"Deployment %s's selector against %s's pods", name, other)
			}
			for svcName, svc := range services {
				Expect(labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels))).To(BeTrue(),
					"Service %s does not select %s's pods", svcName, name)
			}
		}
	})

	It("on with two shards is accepted by a server-side dry-run apply, the pods meeting the restricted standard", func() {
		var failures []string
		for _, o := range helmTemplate("hubspot-operator", twoShards...)() {
			if err := dryRunApply(o); err != nil {
				failures = append(failures, fmt.Sprintf("%s: %v", describe(o), err))
			}
		}
		Expect(failures).To(BeEmpty())
		for name, d := range deploymentsOf(helmTemplate("hubspot-operator", twoShards...)()) {
			Expect(restrictedProblems(d.Spec.Template.Spec)).To(BeEmpty(), name)
		}
	})

	DescribeTable("refuses shard lists that cannot work",
		func(want string, args ...string) {
			_, err := chartgen.HelmTemplate(root, "hubspot-operator", operatorNamespace, args...)
			Expect(err).To(MatchError(ContainSubstring(want)))
		},
		Entry("no shards", "sharding.enabled needs sharding.shards", "--set", "sharding.enabled=true"),
		Entry("a name that is no DNS label", `"Shard_1" is not a lowercase DNS label`, "--set", "sharding.enabled=true", "--set", "sharding.shards={Shard_1}"),
		Entry("a name listed twice", `"shard1" is listed twice`, "--set", "sharding.enabled=true", "--set", "sharding.shards={shard1,shard1}"),
	)
})

// withoutShardFlags is a Deployment's args without those that differ by shard.
func withoutShardFlags(d *appsv1.Deployment) []string {
	var out []string
	for _, a := range d.Spec.Template.Spec.Containers[0].Args {
		if !strings.HasPrefix(a, "--watch-label-selector=") && !strings.HasPrefix(a, "--leader-election-id=") {
			out = append(out, a)
		}
	}
	return out
}
