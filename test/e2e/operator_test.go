//go:build e2e

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

package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

// instance is an API-key HubSpotInstance against the simulator, with the
// account Secret hack/cluster created in the samples namespace.
func instance(namespace, name string) *elementsv1alpha1.HubSpotInstance {
	return &elementsv1alpha1.HubSpotInstance{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: elementsv1alpha1.HubSpotInstanceSpec{
			Platform: elementsv1alpha1.PlatformSpec{
				Endpoint:             simulatorEndpoint,
				CredentialsSecretRef: elementsv1alpha1.CredentialsSecretRef{Name: "cloud-elements"},
			},
			Auth: elementsv1alpha1.AuthSpec{
				Type:   elementsv1alpha1.AuthTypeAPIKey,
				APIKey: &elementsv1alpha1.APIKeyAuth{SecretRef: elementsv1alpha1.SecretKeySelector{Name: "hubspot-key", Key: "api-key"}},
			},
			PollInterval: &metav1.Duration{Duration: 30 * time.Second},
		},
	}
}

func isReady(ctx context.Context, key client.ObjectKey) bool {
	var obj elementsv1alpha1.HubSpotInstance
	if err := k8s.Get(ctx, key, &obj); err != nil {
		return false
	}
	return meta.IsStatusConditionTrue(obj.Status.Conditions, "Ready") && obj.Status.ObservedGeneration == obj.Generation
}

func allSamplesReady(ctx context.Context) error {
	var list elementsv1alpha1.HubSpotInstanceList
	if err := k8s.List(ctx, &list, client.InNamespace(samplesNamespace)); err != nil {
		return err
	}
	for _, obj := range list.Items {
		if !meta.IsStatusConditionTrue(obj.Status.Conditions, "Ready") {
			return fmt.Errorf("%s is not Ready", obj.Name)
		}
	}
	return nil
}

// noDuplicates fails when an instance name at the simulator is held twice.
func noDuplicates(ctx context.Context) error {
	instances, err := simulatorInstances(ctx)
	if err != nil {
		return err
	}
	seen := map[string]int64{}
	for _, i := range instances {
		if other, ok := seen[i.Name]; ok {
			return fmt.Errorf("instance %q is held twice at the simulator: ids %d and %d", i.Name, other, i.ID)
		}
		seen[i.Name] = i.ID
	}
	return nil
}

var _ = Describe("the operator installed by its chart", Ordered, func() {
	ctx := context.Background()

	It("runs two Ready replicas under the restricted Pod Security level, one of them the leader", func() {
		var ns corev1.Namespace
		Expect(k8s.Get(ctx, client.ObjectKey{Name: operatorNamespace}, &ns)).To(Succeed())
		Expect(ns.Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/enforce", "restricted"))

		Eventually(func(g Gomega) {
			pods := operatorPods(ctx)
			g.Expect(pods).To(HaveLen(2))
			for _, p := range pods {
				g.Expect(podReady(p)).To(BeTrue(), "%s Running and Ready", p.Name)
			}
		}).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(Succeed())

		pods := operatorPods(ctx)
		names := []string{pods[0].Name, pods[1].Name}
		for _, p := range pods {
			Expect(p.Spec.Containers[0].Image).To(HavePrefix("hubspot-operator:"))
			sc := p.Spec.Containers[0].SecurityContext
			Expect(sc.ReadOnlyRootFilesystem).To(Equal(ptr.To(true)))
			Expect(sc.RunAsUser).To(Equal(ptr.To(int64(65532))))
		}
		Eventually(func() string { return leaseHolder(ctx, leaseName) }).WithTimeout(time.Minute).Should(BeElementOf(names))
		Expect(allSamplesReady(ctx)).To(Succeed())
	})

	It("hands the lease over when the leader Pod is deleted, with no duplicate and nothing left unready", func() {
		leader := leaseHolder(ctx, leaseName)
		Expect(leader).NotTo(BeEmpty())
		before, err := simulatorInstances(ctx)
		Expect(err).NotTo(HaveOccurred())

		// An object created while the leader goes: exactly one instance.
		obj := instance(samplesNamespace, "handover-crm")
		stop := watchStop(ctx, leader, leaseName)
		Expect(k8s.Delete(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: operatorNamespace, Name: leader}})).To(Succeed())
		Expect(k8s.Create(ctx, obj)).To(Succeed())
		DeferCleanup(func() { _ = k8s.Delete(ctx, obj) })

		var next string
		Eventually(func() string {
			next = leaseHolder(ctx, leaseName)
			return next
		}).WithTimeout(90*time.Second).WithPolling(time.Second).ShouldNot(Or(BeEmpty(), Equal(leader)), "a new leader")
		GinkgoWriter.Printf("leader %s → %s\n", leader, next)
		// SIGTERM, not the SIGKILL at the end of the grace period (137),
		// ended it; and it gave the Lease up rather than letting it expire.
		deleted := time.Now()
		Eventually(stop.ExitCode).WithTimeout(time.Minute).Should(BeEquivalentTo(0), "the old leader's exit code")
		Expect(stop.Released()).To(BeTrue(), "the old leader released the Lease")
		GinkgoWriter.Printf("its exit code seen %s after the new leader\n", time.Since(deleted).Round(100*time.Millisecond))

		Eventually(isReady).WithArguments(ctx, client.ObjectKeyFromObject(obj)).WithTimeout(2 * time.Minute).Should(BeTrue())
		Eventually(allSamplesReady).WithArguments(ctx).WithTimeout(time.Minute).Should(Succeed())
		Consistently(noDuplicates).WithArguments(ctx).WithTimeout(10 * time.Second).WithPolling(time.Second).Should(Succeed())
		after, err := simulatorInstances(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(after).To(HaveLen(len(before)+1), "one instance more: the new object's")

		Eventually(func(g Gomega) {
			pods := operatorPods(ctx)
			g.Expect(pods).To(HaveLen(2))
			for _, p := range pods {
				g.Expect(podReady(p)).To(BeTrue())
			}
		}).WithTimeout(2 * time.Minute).Should(Succeed())
	})

	It("shows a workload the new token in its Secret volume, and rolls a Pod template carrying the data-hash", func() {
		obj := instance(samplesNamespace, "workload-crm")
		Expect(k8s.Create(ctx, obj)).To(Succeed())
		DeferCleanup(func() { _ = k8s.Delete(ctx, obj) })
		key := client.ObjectKeyFromObject(obj)
		Eventually(isReady).WithArguments(ctx, key).WithTimeout(2 * time.Minute).Should(BeTrue())

		secretKey := client.ObjectKey{Namespace: samplesNamespace, Name: "workload-crm-element-token"}
		var secret corev1.Secret
		Expect(k8s.Get(ctx, secretKey, &secret)).To(Succeed())
		oldToken := secret.Data["token"]
		Expect(oldToken).NotTo(BeEmpty())
		oldHash := secret.Annotations["elements.cloud-elements.io/data-hash"]
		Expect(oldHash).NotTo(BeEmpty())

		deploy := workloadDeployment("workload", secretKey.Name, oldHash)
		Expect(k8s.Create(ctx, deploy)).To(Succeed())
		DeferCleanup(func() { _ = k8s.Delete(ctx, deploy) })
		reading := func(g Gomega) workloadReading {
			r, err := readWorkload(ctx, deploy)
			g.Expect(err).NotTo(HaveOccurred())
			return r
		}
		Eventually(reading).WithTimeout(2 * time.Minute).WithPolling(time.Second).
			Should(Equal(workloadReading{Env: sha256Hex(oldToken), File: sha256Hex(oldToken)}))

		// Behind the operator's back: the instance goes at the platform.
		var current elementsv1alpha1.HubSpotInstance
		Expect(k8s.Get(ctx, key, &current)).To(Succeed())
		id := current.Status.InstanceID
		Expect(id).NotTo(BeZero())
		req, err := http.NewRequestWithContext(ctx, http.MethodDelete, simulatorURL(ctx)+"/simulator/instances/"+strconv.FormatInt(id, 10), nil)
		Expect(err).NotTo(HaveOccurred())
		resp, err := http.DefaultClient.Do(req)
		Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		deleted := time.Now()

		var newToken []byte
		Eventually(func(g Gomega) {
			g.Expect(k8s.Get(ctx, secretKey, &secret)).To(Succeed())
			newToken = secret.Data["token"]
			g.Expect(newToken).NotTo(Equal(oldToken))
		}).WithTimeout(3*time.Minute).WithPolling(time.Second).Should(Succeed(), "the operator re-creates the instance on its next poll, with a new token")
		GinkgoWriter.Printf("new token in the Secret %s after the deletion\n", time.Since(deleted).Round(time.Second))
		published := time.Now()

		// The kubelet refreshes Secret volumes on its Pod sync; the
		// environment is fixed for the container's life.
		Eventually(reading).WithTimeout(2 * time.Minute).WithPolling(time.Second).
			Should(Equal(workloadReading{Env: sha256Hex(oldToken), File: sha256Hex(newToken)}))
		GinkgoWriter.Printf("the volume showed it %s later\n", time.Since(published).Round(time.Second))

		newHash := secret.Annotations["elements.cloud-elements.io/data-hash"]
		Expect(newHash).NotTo(Equal(oldHash))
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(deploy), deploy)).To(Succeed())
		patch := client.MergeFrom(deploy.DeepCopy())
		deploy.Spec.Template.Annotations["elements.cloud-elements.io/data-hash"] = newHash
		Expect(k8s.Patch(ctx, deploy, patch)).To(Succeed())
		Eventually(reading).WithTimeout(2*time.Minute).WithPolling(time.Second).
			Should(Equal(workloadReading{Env: sha256Hex(newToken), File: sha256Hex(newToken)}), "the rolled Pod reads the new token from its environment")

		Expect(noDuplicates(ctx)).To(Succeed())
	})

	It("sets its Go soft limit from the container's memory limit (log and metric), and serves metrics only to a token with the RBAC", func() {
		pods := operatorPods(ctx)
		Expect(pods).NotTo(BeEmpty())
		pod := pods[0]
		limit := pod.Spec.Containers[0].Resources.Limits.Memory().Value()
		Expect(limit).To(BeNumerically(">", 0))
		want := int64(float64(limit) * 0.9)

		logs, err := clientset.CoreV1().Pods(operatorNamespace).GetLogs(pod.Name, &corev1.PodLogOptions{Container: "manager"}).DoRaw(ctx)
		Expect(err).NotTo(HaveOccurred(), "logs through the API server and the kubelet")
		Expect(string(logs)).To(ContainSubstring(fmt.Sprintf(`"memoryLimitBytes":%d`, want)))

		reader := serviceAccountToken(ctx, "e2e-metrics-reader", true)
		stranger := serviceAccountToken(ctx, "e2e-no-metrics", false)
		url := fmt.Sprintf("https://%s:8443/metrics", pod.Status.PodIP)
		Eventually(func(g Gomega) {
			status, body := scrape(ctx, url, reader)
			g.Expect(status).To(Equal(http.StatusOK))
			g.Expect(metricValue(body, "go_gc_gomemlimit_bytes")).To(Equal(float64(want)))
		}).WithTimeout(time.Minute).WithPolling(2 * time.Second).Should(Succeed())
		status, body := scrape(ctx, url, stranger)
		Expect(status).To(Equal(http.StatusForbidden), body)
		status, _ = scrape(ctx, url, "")
		Expect(status).To(Equal(http.StatusUnauthorized))
	})

	It("completes the OAuth 2 consent through the callback Service, as a browser behind an Ingress reaches it", func() {
		obj, link := awaitConsent(ctx, "consent-crm")
		consentThroughCallbackService(ctx, link)
		Eventually(isReady).WithArguments(ctx, client.ObjectKeyFromObject(obj)).WithTimeout(2 * time.Minute).Should(BeTrue())
		var token corev1.Secret
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: samplesNamespace, Name: "consent-crm-element-token"}, &token)).To(Succeed())
		Expect(token.Data["token"]).NotTo(BeEmpty())
	})

	It("deletes the instances when their namespace is deleted", func() {
		const ns = "e2e-namespace-deletion"
		Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		var creds, key corev1.Secret
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: samplesNamespace, Name: "cloud-elements"}, &creds)).To(Succeed())
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: samplesNamespace, Name: "hubspot-key"}, &key)).To(Succeed())
		for _, s := range []corev1.Secret{creds, key} {
			Expect(k8s.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: s.Name}, Data: s.Data})).To(Succeed())
		}
		obj := instance(ns, "doomed-crm")
		Expect(k8s.Create(ctx, obj)).To(Succeed())
		Eventually(isReady).WithArguments(ctx, client.ObjectKeyFromObject(obj)).WithTimeout(2 * time.Minute).Should(BeTrue())
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		id := obj.Status.InstanceID

		Expect(k8s.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		Eventually(func() bool {
			err := k8s.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{})
			return apierrors.IsNotFound(err)
		}).WithTimeout(3*time.Minute).WithPolling(time.Second).Should(BeTrue(), "the namespace controller finishes")
		instances, err := simulatorInstances(ctx)
		Expect(err).NotTo(HaveOccurred())
		for _, i := range instances {
			Expect(i.ID).NotTo(Equal(id), "the instance is deleted at the simulator")
		}
	})

	It("rolls on helm upgrade: SIGTERM ends the old leader, which releases the Lease; no duplicate, every object Ready", func() {
		var before appsv1.Deployment
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: operatorNamespace, Name: helmRelease + "-controller-manager"}, &before)).To(Succeed())
		oldPods := map[string]bool{}
		for _, p := range operatorPods(ctx) {
			oldPods[p.Name] = true
		}
		oldLeader := leaseHolder(ctx, leaseName)
		Expect(oldPods).To(HaveKey(oldLeader))
		// A consent under way when the Pods roll: the link the old Pods
		// published must still complete on the new ones.
		pending, link := awaitConsent(ctx, "rolled-consent-crm")
		stop := watchStop(ctx, oldLeader, leaseName)
		out, err := helm("upgrade", helmRelease, repoRoot+"/charts/hubspot-operator", "-n", operatorNamespace,
			"--reuse-values", "--set-string", "podAnnotations.e2e/rolled="+strconv.FormatInt(time.Now().Unix(), 10), "--wait", "--timeout", "5m")
		Expect(err).NotTo(HaveOccurred(), out)

		Eventually(func(g Gomega) {
			pods := operatorPods(ctx)
			g.Expect(pods).To(HaveLen(2))
			for _, p := range pods {
				g.Expect(oldPods).NotTo(HaveKey(p.Name))
				g.Expect(podReady(p)).To(BeTrue())
			}
		}).WithTimeout(3 * time.Minute).WithPolling(time.Second).Should(Succeed())
		Eventually(func() bool { return oldPods[leaseHolder(ctx, leaseName)] || leaseHolder(ctx, leaseName) == "" }).
			WithTimeout(time.Minute).Should(BeFalse(), "a new Pod leads")
		Eventually(stop.ExitCode).WithTimeout(time.Minute).Should(BeEquivalentTo(0), "SIGTERM ended the old leader within its grace period")
		Expect(stop.Released()).To(BeTrue(), "the old leader released the Lease")
		consentThroughCallbackService(ctx, link)
		Eventually(isReady).WithArguments(ctx, client.ObjectKeyFromObject(pending)).WithTimeout(2*time.Minute).
			Should(BeTrue(), "the consent begun before the roll completes after it")
		Expect(allSamplesReady(ctx)).To(Succeed())
		Consistently(noDuplicates).WithArguments(ctx).WithTimeout(10 * time.Second).WithPolling(time.Second).Should(Succeed())
	})

	It("splits the objects between two Deployments by label when sharded, each with its own lease, none reconciled twice", func() {
		out, err := helm("upgrade", helmRelease, repoRoot+"/charts/hubspot-operator", "-n", operatorNamespace,
			"--reuse-values", "--set", "sharding.enabled=true", "--set", "sharding.shards={shard1}", "--wait", "--timeout", "5m")
		Expect(err).NotTo(HaveOccurred(), out)
		var mainLeader, shardLeader string
		Eventually(func(g Gomega) {
			mainLeader, shardLeader = leaseHolder(ctx, leaseName), leaseHolder(ctx, leaseName+"-shard1")
			g.Expect(shardLeader).To(ContainSubstring("-shard1-"))
			g.Expect(mainLeader).NotTo(Or(BeEmpty(), ContainSubstring("-shard")))
			var main corev1.Pod
			g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: operatorNamespace, Name: mainLeader}, &main)).To(Succeed())
			g.Expect(podReady(main)).To(BeTrue())
		}).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(Succeed())
		token := serviceAccountToken(ctx, "e2e-shard-metrics", true)
		creates := func(pod string) float64 {
			var p corev1.Pod
			Expect(k8s.Get(ctx, client.ObjectKey{Namespace: operatorNamespace, Name: pod}, &p)).To(Succeed())
			status, body := scrape(ctx, fmt.Sprintf("https://%s:8443/metrics", p.Status.PodIP), token)
			Expect(status).To(Equal(http.StatusOK))
			return max(0, metricValue(body, `cloudelements_request_duration_seconds_count{operation="create_instance"}`))
		}

		for _, tc := range []struct {
			name, shard string
		}{{"sharded-crm", "shard1"}, {"unsharded-crm", ""}} {
			mainBefore, shardBefore := creates(mainLeader), creates(shardLeader)
			obj := instance(samplesNamespace, tc.name)
			if tc.shard != "" {
				obj.Labels = map[string]string{"sharding.fluxcd.io/key": tc.shard}
			}
			Expect(k8s.Create(ctx, obj)).To(Succeed())
			DeferCleanup(func() { _ = k8s.Delete(ctx, obj) })
			Eventually(isReady).WithArguments(ctx, client.ObjectKeyFromObject(obj)).WithTimeout(2 * time.Minute).Should(BeTrue())
			if tc.shard != "" {
				Expect(creates(shardLeader)).To(Equal(shardBefore+1), "the shard created %s", tc.name)
				Expect(creates(mainLeader)).To(Equal(mainBefore), "the main Deployment left %s alone", tc.name)
			} else {
				Expect(creates(mainLeader)).To(Equal(mainBefore+1), "the main Deployment created %s", tc.name)
				Expect(creates(shardLeader)).To(Equal(shardBefore), "the shard left %s alone", tc.name)
			}
		}
		Consistently(noDuplicates).WithArguments(ctx).WithTimeout(10 * time.Second).WithPolling(time.Second).Should(Succeed())
		Expect(allSamplesReady(ctx)).To(Succeed())
	})
})

type workloadReading struct {
	Env  string `json:"env"`
	File string `json:"file"`
}

// awaitConsent creates an OAuth 2 object whose callback is the chart's
// callback Service, and returns it with the consent link it publishes.
func awaitConsent(ctx context.Context, name string) (*elementsv1alpha1.HubSpotInstance, string) {
	app := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: samplesNamespace, Name: name + "-app"},
		StringData: map[string]string{"client-id": "e2e-client-id", "client-secret": "e2e-client-secret"}}
	Expect(k8s.Create(ctx, app)).To(Succeed())
	DeferCleanup(func(ctx context.Context) { _ = k8s.Delete(ctx, app) })
	obj := instance(samplesNamespace, name)
	obj.Spec.Auth = elementsv1alpha1.AuthSpec{Type: elementsv1alpha1.AuthTypeOAuth2, OAuth2: &elementsv1alpha1.OAuth2Auth{
		ClientSecretRef: elementsv1alpha1.OAuthClientSecretRef{Name: elementsv1alpha1.SecretName(app.Name)},
		Scopes:          []string{"contacts"},
		CallbackURL:     "http://" + helmRelease + "-oauth-callback." + operatorNamespace + ".svc/oauth/callback",
	}}
	Expect(k8s.Create(ctx, obj)).To(Succeed())
	DeferCleanup(func(ctx context.Context) { _ = k8s.Delete(ctx, obj) })

	var link string
	Eventually(func(g Gomega) {
		var current elementsv1alpha1.HubSpotInstance
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(obj), &current)).To(Succeed())
		g.Expect(current.Status.AuthorizationSecretName).NotTo(BeEmpty())
		var sec corev1.Secret
		g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: samplesNamespace, Name: current.Status.AuthorizationSecretName}, &sec)).To(Succeed())
		g.Expect(sec.Annotations[elementsv1alpha1.AuthorizationNonceAnnotation]).To(Equal(current.Status.AuthorizationNonce))
		link = string(sec.Data[elementsv1alpha1.AuthorizationURLKey])
		g.Expect(link).NotTo(BeEmpty())
	}).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(Succeed())
	return obj, link
}

// consentThroughCallbackService opens link as a browser would, with cluster
// names resolved by the cluster's DNS, and follows the consent page's
// redirect to the callback Service.
func consentThroughCallbackService(ctx context.Context, link string) {
	resolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, "10.96.0.10:53")
	}}
	dialer := &net.Dialer{Resolver: resolver}
	browser := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		// <service>.<namespace>.svc, completed as a Pod's search path does.
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			if strings.HasSuffix(host, ".svc") {
				host += ".cluster.local"
			}
			return dialer.DialContext(ctx, network, net.JoinHostPort(host, port))
		},
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	Expect(err).NotTo(HaveOccurred())
	resp, err := browser.Do(req)
	Expect(err).NotTo(HaveOccurred())
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	Expect(resp.Request.URL.Host).To(Equal(helmRelease + "-oauth-callback." + operatorNamespace + ".svc"))
	Expect(resp.Request.URL.Path).To(Equal("/oauth/callback"))
	Expect(resp.StatusCode).To(Equal(http.StatusOK), "%s", body)
}

func workloadDeployment(name, secret, dataHash string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: samplesNamespace, Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{"elements.cloud-elements.io/data-hash": dataHash}},
				Spec: corev1.PodSpec{
					AutomountServiceAccountToken:  ptr.To(false),
					TerminationGracePeriodSeconds: ptr.To(int64(2)),
					SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true),
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
					Containers: []corev1.Container{{
						Name: "app", Image: workloadImage, ImagePullPolicy: corev1.PullNever,
						Env: []corev1.EnvVar{
							{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
								LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: "token"}}},
							{Name: "TOKEN_FILE", Value: "/var/run/element-token/token"},
						},
						VolumeMounts: []corev1.VolumeMount{{Name: "token", MountPath: "/var/run/element-token", ReadOnly: true}},
						ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstrPort(8080)}},
							PeriodSeconds: 1},
						SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true),
							Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
					}},
					Volumes: []corev1.Volume{{Name: "token", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: secret}}}},
				},
			},
		},
	}
}

// readWorkload asks the Deployment's one Ready Pod (of its newest template)
// what it reads.
func readWorkload(ctx context.Context, deploy *appsv1.Deployment) (workloadReading, error) {
	var pods corev1.PodList
	if err := k8s.List(ctx, &pods, client.InNamespace(deploy.Namespace), client.MatchingLabels(deploy.Spec.Selector.MatchLabels)); err != nil {
		return workloadReading{}, err
	}
	var ready []corev1.Pod
	for _, p := range pods.Items {
		if podReady(p) {
			ready = append(ready, p)
		}
	}
	if len(ready) != 1 {
		return workloadReading{}, fmt.Errorf("%d Ready Pods, want 1", len(ready))
	}
	var r workloadReading
	return r, getJSON(ctx, fmt.Sprintf("http://%s:8080/token", ready[0].Status.PodIP), &r)
}

// serviceAccountToken is a token of a new service account, bound to the
// chart's metrics-reader ClusterRole when withRBAC.
func serviceAccountToken(ctx context.Context, name string, withRBAC bool) string {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: samplesNamespace, Name: name}}
	Expect(client.IgnoreAlreadyExists(k8s.Create(ctx, sa))).To(Succeed())
	if withRBAC {
		binding := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: helmRelease + "-metrics-reader"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: samplesNamespace, Name: name}},
		}
		Expect(client.IgnoreAlreadyExists(k8s.Create(ctx, binding))).To(Succeed())
		DeferCleanup(func() { _ = k8s.Delete(ctx, binding) })
	}
	tr, err := clientset.CoreV1().ServiceAccounts(samplesNamespace).CreateToken(ctx, name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To(int64(600))}}, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred())
	return tr.Status.Token
}

// scrape gets the metrics as the chart's ServiceMonitor does: https, the
// serving certificate not verified (it is the operator's self-signed one),
// a bearer token.
func scrape(ctx context.Context, url, token string) (int, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	Expect(err).NotTo(HaveOccurred())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	//nolint:gosec // as the ServiceMonitor's tlsConfig
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := c.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(body))
}

func intstrPort(port int) intstr.IntOrString { return intstr.FromInt32(int32(port)) }

// metricValue reads an unlabelled sample of the Prometheus text format
// (written as a float: 2.4159191e+08).
func metricValue(body, name string) float64 {
	for _, line := range strings.Split(body, "\n") {
		if value, ok := strings.CutPrefix(line, name+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			Expect(err).NotTo(HaveOccurred())
			return v
		}
	}
	return -1
}
