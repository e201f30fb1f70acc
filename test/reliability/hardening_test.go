//go:build reliability

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

package reliability

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
)

// hostileObjects is how many objects point at hostile endpoints while a
// healthy object's time to Ready is measured.
const hostileObjects = 10

// hostileSlack is how much later than without them the healthy object may
// become Ready while the hostile endpoints are being served.
const hostileSlack = 3 * time.Second

// securityHardening: the endpoint allow-list, verified imports, the fixed
// platform, no redirects, bounded answers, the token Secret race and the
// consent link out of a viewer's reach, each against the running operator of
// point 7 (cluster-wide, 5s client timeout) and its simulator.
func securityHardening(simOf func() *sim, logOf func() string, waitReason func(client.ObjectKey, string) *elementsv1alpha1.HubSpotInstance) {
	It("refuses an endpoint off the allow-list before reading any Secret, and never connects to it", func() {
		s := simOf()
		// A listener on a non-loopback address of this machine: off the
		// allow-list (the harness allows only loopback and the defaults), but
		// reachable, so a request sent despite the refusal would be seen.
		host := nonLoopbackIP()
		Expect(host).NotTo(BeEmpty(), "no non-loopback IPv4 address on this machine")
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		Expect(err).NotTo(HaveOccurred())
		var accepted atomic.Int32
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				accepted.Add(1)
				_ = c.Close()
			}
		}()
		DeferCleanup(func() { _ = ln.Close() })

		ns := newNamespace("sec-allow")
		obj := apiKeyObject(ns, "offlist", s)
		obj.Spec.Platform.Endpoint = elementsv1alpha1.HTTPURL("https://" + ln.Addr().String() + simulator.APIPrefix)
		Expect(k8s.Create(ctx, obj)).To(Succeed())
		// Neither Secret exists: reading one would report MissingConfiguration.
		got := waitReason(client.ObjectKeyFromObject(obj), elementsv1alpha1.ReasonInvalidConfiguration)
		msg := readyCondition(got).Message
		Expect(msg).To(ContainSubstring(host))
		Expect(msg).NotTo(ContainSubstring("not found"))

		By("with the Secrets in place it still sends nothing there")
		createAccount(ns, "cloud-elements", s)
		createAPIKey(ns, "hubspot-key")
		Consistently(func(g Gomega) {
			now := &elementsv1alpha1.HubSpotInstance{}
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(obj), now)).To(Succeed())
			g.Expect(readyCondition(now).Reason).To(Equal(elementsv1alpha1.ReasonInvalidConfiguration))
		}).WithTimeout(3 * time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())
		Expect(accepted.Load()).To(BeZero(), "connections to the endpoint off the allow-list")

		rep.fig(7, "Endpoint off the allow-list (https://<this machine's "+host+">:port), Secrets missing", "Ready=False InvalidConfiguration: "+msg,
			"InvalidConfiguration naming the host, not MissingConfiguration (no Secret read)")
		rep.fig(7, "Connections made to the endpoint off the allow-list, Secrets missing then present", int(accepted.Load()), "0")
	})

	It("refuses to import another object's instance or another element's, and leaves both untouched", func() {
		s := simOf()
		ns := newNamespace("sec-import")
		createAccount(ns, "cloud-elements", s)
		createAPIKey(ns, "hubspot-key")

		owner := apiKeyObject(ns, "owner", s)
		Expect(k8s.Create(ctx, owner)).To(Succeed())
		ownerReady := waitReason(client.ObjectKeyFromObject(owner), elementsv1alpha1.ReasonAvailable)
		ownerInst, ok := s.Instance(ownerReady.Status.InstanceID)
		Expect(ok).To(BeTrue())

		// An untagged instance of another element in the same account, made
		// the way a person would, through the platform API.
		api, err := cloudelements.New(cloudelements.Options{Endpoint: s.Endpoint, UserSecret: s.UserSecret, OrganizationSecret: s.OrgSecret})
		Expect(err).NotTo(HaveOccurred())
		foreign, err := api.CreateInstance(ctx, cloudelements.InstanceRequest{Element: cloudelements.ElementRef{Key: cloudelements.ElementKey},
			Name: "salesforce-prod", Configuration: map[string]string{cloudelements.ConfigAuthenticationType: "apiKey",
				cloudelements.ConfigHubSpotAPIKey: secretValue("foreign-api-key")}})
		Expect(err).NotTo(HaveOccurred())
		Expect(s.SetElementKey(foreign.ID, "sfdc")).To(Succeed())
		foreignInst, ok := s.Instance(foreign.ID)
		Expect(ok).To(BeTrue())

		cases := []struct {
			name, what, mentions string
			inst                 cloudelements.Instance
		}{
			{"takeover", "carrying another object's owner tag", "belongs to " + ns + "/owner", ownerInst},
			{"wrongelement", "of another element (sfdc)", `"sfdc"`, foreignInst},
		}
		var objs []*elementsv1alpha1.HubSpotInstance
		for _, tc := range cases {
			obj := apiKeyObject(ns, tc.name, s)
			obj.Annotations = map[string]string{elementsv1alpha1.InstanceIDAnnotation: fmt.Sprint(tc.inst.ID)}
			Expect(k8s.Create(ctx, obj)).To(Succeed())
			objs = append(objs, obj)
		}
		untouched := func(g Gomega) {
			for _, tc := range cases {
				now, ok := s.Instance(tc.inst.ID)
				g.Expect(ok).To(BeTrue(), "instance %d (%s) deleted", tc.inst.ID, tc.what)
				g.Expect(now.Name).To(Equal(tc.inst.Name))
				g.Expect(now.Tags).To(Equal(tc.inst.Tags))
				g.Expect(now.Configuration).To(Equal(tc.inst.Configuration))
				g.Expect(now.Token).To(Equal(tc.inst.Token))
			}
		}
		var msgs []string
		for i, tc := range cases {
			got := waitReason(client.ObjectKeyFromObject(objs[i]), elementsv1alpha1.ReasonInvalidConfiguration)
			msg := readyCondition(got).Message
			Expect(msg).To(ContainSubstring(tc.mentions))
			Expect(got.Status.InstanceID).To(BeZero())
			Expect(apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: got.TokenSecretName()}, &corev1.Secret{}))).To(BeTrue(),
				"a token Secret for %s", tc.name)
			msgs = append(msgs, msg)
		}
		Consistently(untouched).WithTimeout(2 * time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())

		By("deleting the importers deletes neither instance")
		deletesBefore := s.Total(simulator.OpDelete)
		for _, obj := range objs {
			Expect(k8s.Delete(ctx, obj)).To(Succeed())
		}
		Eventually(func(g Gomega) {
			for _, obj := range objs {
				g.Expect(apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(obj), &elementsv1alpha1.HubSpotInstance{}))).To(BeTrue())
			}
		}).WithTimeout(30 * time.Second).Should(Succeed())
		Consistently(untouched).WithTimeout(time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())
		deletes := s.Total(simulator.OpDelete) - deletesBefore
		Expect(deletes).To(BeZero())
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(owner), ownerReady)).To(Succeed())
		Expect(isReady(ownerReady)).To(BeTrue(), "the owner stays Ready")

		for i, tc := range cases {
			rep.fig(7, "Import of an instance "+tc.what, "Ready=False InvalidConfiguration: "+msgs[i], "refused")
		}
		rep.asserted(7, "Imported-against instances changed (name, tags, configuration, token) or deleted, also after the importers were deleted", "0")
		rep.fig(7, "DELETE calls sent while deleting the refused importers", deletes, "0")
		rep.addHeadline(7, "imports of another object's or another element's instance refused, both untouched")
	})

	It("refuses a change of spec.platform at admission once an instance is recorded", func() {
		s := simOf()
		ns := newNamespace("sec-platform")
		createAccount(ns, "cloud-elements", s)
		createAPIKey(ns, "hubspot-key")
		createSecret(ns, "other-account", map[string]string{"user-secret": s.UserSecret, "organization-secret": s.OrgSecret})
		obj := apiKeyObject(ns, "fixed", s)
		Expect(k8s.Create(ctx, obj)).To(Succeed())
		ready := waitReason(client.ObjectKeyFromObject(obj), elementsv1alpha1.ReasonAvailable)
		Expect(ready.Status.InstanceID).NotTo(BeZero())

		changes := []struct {
			what string
			edit func(*elementsv1alpha1.HubSpotInstance)
		}{
			{"endpoint", func(o *elementsv1alpha1.HubSpotInstance) {
				o.Spec.Platform.Endpoint = "https://api.cloud-elements.com" + simulator.APIPrefix
			}},
			{"credentials Secret", func(o *elementsv1alpha1.HubSpotInstance) { o.Spec.Platform.CredentialsSecretRef.Name = "other-account" }},
		}
		refused := 0
		var msg string
		for _, c := range changes {
			now := &elementsv1alpha1.HubSpotInstance{}
			Expect(k8s.Get(ctx, client.ObjectKeyFromObject(obj), now)).To(Succeed())
			c.edit(now)
			err := k8s.Update(ctx, now)
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "changing the %s: %v", c.what, err)
			Expect(err.Error()).To(ContainSubstring("spec.platform is immutable"))
			msg = err.Error()
			refused++
		}
		after := &elementsv1alpha1.HubSpotInstance{}
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(obj), after)).To(Succeed())
		Expect(after.Spec.Platform).To(Equal(ready.Spec.Platform))

		rep.fig(7, "Changes of spec.platform (endpoint, credentials Secret) after provisioning refused at admission", fmt.Sprintf("%d of %d", refused, len(changes)),
			fmt.Sprint(len(changes)))
		rep.note(7, "Admission answer to a spec.platform change after provisioning: `%s`.", msg)
	})

	It("does not follow a redirect: the redirect target receives nothing and the object reports the 3xx", func() {
		s := simOf()
		var targetHits, redirects atomic.Int32
		target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			targetHits.Add(1)
			w.WriteHeader(http.StatusOK)
		}))
		DeferCleanup(target.Close)
		redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			redirects.Add(1)
			http.Redirect(w, r, target.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
		}))
		DeferCleanup(redirector.Close)

		ns := newNamespace("sec-redirect")
		createAccount(ns, "cloud-elements", s)
		createAPIKey(ns, "hubspot-key")
		obj := apiKeyObject(ns, "redirected", s)
		obj.Spec.Platform.Endpoint = elementsv1alpha1.HTTPURL(redirector.URL + simulator.APIPrefix)
		Expect(k8s.Create(ctx, obj)).To(Succeed())
		var c *metav1.Condition
		Eventually(func(g Gomega) {
			now := &elementsv1alpha1.HubSpotInstance{}
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(obj), now)).To(Succeed())
			c = readyCondition(now)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Message).To(ContainSubstring("307"))
		}).WithTimeout(30 * time.Second).Should(Succeed())
		Expect(c.Status).To(Equal(metav1.ConditionFalse))
		Consistently(targetHits.Load).WithTimeout(2 * time.Second).Should(BeZero())
		Expect(redirects.Load()).To(BeNumerically(">=", 1))

		rep.fig(7, "Endpoint answering 307 to another local server: requests to the redirect target", int(targetHits.Load()), "0")
		rep.fig(7, "Endpoint answering 307: the object's condition", fmt.Sprintf("Ready=False %s: %s", c.Reason, c.Message), "Ready=False naming the 3xx")
	})

	It(fmt.Sprintf("keeps a healthy object's time to Ready while %d objects point at hostile endpoints", hostileObjects), func() {
		s := simOf()
		healthy := newNamespace("sec-healthy")
		createAccount(healthy, "cloud-elements", s)
		createAPIKey(healthy, "hubspot-key")
		timeToReady := func(name string) time.Duration {
			GinkgoHelper()
			obj := apiKeyObject(healthy, name, s)
			started := time.Now()
			Expect(k8s.Create(ctx, obj)).To(Succeed())
			Eventually(func(g Gomega) {
				now := &elementsv1alpha1.HubSpotInstance{}
				g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(obj), now)).To(Succeed())
				g.Expect(isReady(now)).To(BeTrue())
			}).WithTimeout(time.Minute).WithPolling(20 * time.Millisecond).Should(Succeed())
			return time.Since(started)
		}
		alone := timeToReady("alone")

		modes := []hostileMode{hostilePages, hostileHuge, hostileRetryAfter}
		servers := map[hostileMode]*hostileServer{}
		for _, m := range modes {
			servers[m] = startHostile(m)
		}
		ns := newNamespace("sec-hostile")
		createAccount(ns, "cloud-elements", s)
		createAPIKey(ns, "hubspot-key")
		longAgo := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339Nano) + " by someone"
		var hostile []*elementsv1alpha1.HubSpotInstance
		for i := range hostileObjects {
			m := modes[i%len(modes)]
			obj := apiKeyObject(ns, fmt.Sprintf("hostile-%s-%d", string(m), i), s)
			obj.Spec.Platform.Endpoint = elementsv1alpha1.HTTPURL(servers[m].URL + simulator.APIPrefix)
			if m == hostilePages {
				// An interrupted create long ago: the operator's first call
				// is the owner-tag lookup, which meets the endless pages.
				obj.Annotations = map[string]string{elementsv1alpha1.CreatePendingAnnotation: longAgo}
			}
			hostile = append(hostile, obj)
		}
		parallel(len(hostile), 8, func(i int) error { return k8s.Create(ctx, hostile[i]) })
		Eventually(func(g Gomega) {
			for _, m := range modes {
				g.Expect(servers[m].hits.Load()).To(BeNumerically(">", 0), "requests at the %s endpoint", m)
			}
		}).WithTimeout(30 * time.Second).Should(Succeed())
		beside := timeToReady("beside-hostile")

		// Every hostile object ends up Ready=False with a bounded error.
		outcomes := map[string]string{}
		Eventually(func(g Gomega) {
			for _, obj := range hostile {
				now := &elementsv1alpha1.HubSpotInstance{}
				g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(obj), now)).To(Succeed())
				c := readyCondition(now)
				g.Expect(c).NotTo(BeNil(), obj.Name)
				g.Expect(c.Status).To(Equal(metav1.ConditionFalse), obj.Name)
				g.Expect(c.Reason).NotTo(Equal(elementsv1alpha1.ReasonProgressing), obj.Name)
				mode := strings.Split(obj.Name, "-")[1]
				outcomes[mode] = c.Reason + ": " + c.Message
			}
		}).WithTimeout(30 * time.Second).Should(Succeed())

		pages := servers[hostilePages].hits.Load()
		// The operator's own word on when it comes back to the objects told
		// to wait a day: the requeue it logs, not the message's "retrying in".
		var longest time.Duration
		Eventually(func() error {
			longest = longestRequeue(logOf(), ns, "hostile-"+string(hostileRetryAfter)+"-")
			if longest == 0 {
				return fmt.Errorf("no requeue logged yet")
			}
			return nil
		}).WithTimeout(10 * time.Second).Should(Succeed())
		rep.fig(7, "Healthy object's time to Ready, alone / beside "+fmt.Sprint(hostileObjects)+" objects at hostile endpoints",
			fmt.Sprintf("%s / %s", alone.Round(10*time.Millisecond), beside.Round(10*time.Millisecond)), fmt.Sprintf("beside ≤ alone + %s", hostileSlack))
		rep.fig(7, "Requests answered by the hostile endpoints (endless pages / 16 MiB bodies / Retry-After 1 day)",
			fmt.Sprintf("%d / %d / %d", pages, servers[hostileHuge].hits.Load(), servers[hostileRetryAfter].hits.Load()), "")
		for _, m := range modes {
			rep.fig(7, "Hostile endpoint ("+m.String()+"): the objects' condition", "Ready=False "+outcomes[string(m)], "Ready=False, bounded")
		}
		rep.fig(7, "Hostile endpoint (429, Retry-After 1 day): longest requeue the operator logged for those objects", longest,
			fmt.Sprintf("≤ %s (the 10m poll interval plus its jitter)", retryAfterBound))
		rep.note(7, "Hostile endpoints: %d objects in one namespace, spread over three local servers that answer every request with a next-page token never seen before "+
			"(the objects carry an old create-pending marker, so the operator starts with the owner-tag lookup), with a 16 MiB body streamed on a 200, or with 429 and "+
			"Retry-After: 86400. The healthy object is in another namespace on the simulator, reconciled by the same operator process (10 workers).", hostileObjects)
		rep.addHeadline(7, fmt.Sprintf("healthy object Ready in %s beside %d hostile endpoints (%s alone)",
			beside.Round(10*time.Millisecond), hostileObjects, alone.Round(10*time.Millisecond)))

		Expect(beside).To(BeNumerically("<=", alone+hostileSlack))
		Expect(longest).To(BeNumerically("<=", retryAfterBound))
	})

	It("does not write the token into a Secret of its name created while the instance was being created", func() {
		s := startSim("sec-race")
		ns := newNamespace("sec-race")
		createAccount(ns, "cloud-elements", s)
		createAPIKey(ns, "hubspot-key")
		s.SetFault(simulator.OpCreate, simulator.Fault{Latency: 2 * time.Second})
		obj := apiKeyObject(ns, "raced", s)
		Expect(k8s.Create(ctx, obj)).To(Succeed())
		Eventually(func() int {
			now := &elementsv1alpha1.HubSpotInstance{}
			if k8s.Get(ctx, client.ObjectKeyFromObject(obj), now) != nil || now.UID == "" {
				return 0
			}
			return s.creates(now.OwnerTag())
		}).WithTimeout(30 * time.Second).WithPolling(10 * time.Millisecond).Should(Equal(1))
		theirs := createSecret(ns, "raced-element-token", map[string]string{"token": secretValue("someone-elses-token")})
		got := waitReason(client.ObjectKeyFromObject(obj), elementsv1alpha1.ReasonSecretConflict)
		s.ClearFaults()
		msg := readyCondition(got).Message
		Expect(msg).To(ContainSubstring("Secret " + ns + "/raced-element-token already exists and is not owned"))
		Consistently(func(g Gomega) {
			now := &corev1.Secret{}
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(theirs), now)).To(Succeed())
			g.Expect(now.ResourceVersion).To(Equal(theirs.ResourceVersion))
			g.Expect(equality.Semantic.DeepEqual(now.Data, theirs.Data)).To(BeTrue())
			g.Expect(now.OwnerReferences).To(BeEmpty())
		}).WithTimeout(2 * time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())

		rep.fig(7, "Secret of the token Secret's name created by someone else while the create was in flight", "Ready=False SecretConflict: "+msg, "SecretConflict")
		rep.asserted(7, "Of that Secret, writes by the operator (resourceVersion, data or owners changed)", "0")
	})

	It("gives a viewer no usable consent link: the link's Secret is forbidden and status holds no signed state", func() {
		s := simOf()
		ns := newNamespace("sec-viewer")
		waiting, authURL := awaitingConsent(ns, s, "https://operator.example.com/oauth/callback", waitReason)
		Expect(authURL).To(ContainSubstring("state="))
		state := queryParam(authURL, "state")
		Expect(state).NotTo(BeEmpty())

		// The viewer role as shipped, bound in the namespace to a user the
		// suite impersonates.
		role := &rbacv1.ClusterRole{}
		raw, err := os.ReadFile(filepath.Join(root, "config", "rbac", "hubspotinstance_viewer_role.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(yaml.Unmarshal(raw, role)).To(Succeed())
		role.ResourceVersion = ""
		if err := k8s.Create(ctx, role); err != nil && !apierrors.IsAlreadyExists(err) {
			Expect(err).NotTo(HaveOccurred())
		}
		const viewer = "reliability-viewer"
		Expect(k8s.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "viewer"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: viewer}}})).To(Succeed())
		cfg := rest.CopyConfig(cp.Config)
		cfg.Impersonate = rest.ImpersonationConfig{UserName: viewer}
		asViewer, err := client.New(cfg, client.Options{Scheme: k8s.Scheme()})
		Expect(err).NotTo(HaveOccurred())

		seen := &elementsv1alpha1.HubSpotInstance{}
		Eventually(func() error { return asViewer.Get(ctx, client.ObjectKeyFromObject(waiting), seen) }).WithTimeout(10 * time.Second).Should(Succeed())
		linkErr := asViewer.Get(ctx, client.ObjectKey{Namespace: ns, Name: waiting.Status.AuthorizationSecretName}, &corev1.Secret{})
		Expect(apierrors.IsForbidden(linkErr)).To(BeTrue(), "viewer reading the consent-link Secret: %v", linkErr)
		listErr := asViewer.List(ctx, &corev1.SecretList{}, client.InNamespace(ns))
		Expect(apierrors.IsForbidden(listErr)).To(BeTrue(), "viewer listing Secrets: %v", listErr)
		statusJSON, err := json.Marshal(seen.Status)
		Expect(err).NotTo(HaveOccurred())
		whole, err := json.Marshal(seen)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(whole)).NotTo(ContainSubstring(state), "the signed state in what a viewer reads")
		Expect(string(whole)).NotTo(ContainSubstring("state="), "an authorization URL in what a viewer reads")
		_, sig, _ := strings.Cut(state, ".")
		Expect(sig).NotTo(BeEmpty())
		Expect(string(whole)).NotTo(ContainSubstring(sig), "the state's signature in what a viewer reads")
		seenByViewer := strings.Count(string(whole), state) + strings.Count(string(whole), "state=") + strings.Count(string(whole), sig)

		rep.fig(7, "Viewer (hubspotinstance-viewer-role): read the object / get the consent-link Secret / list Secrets",
			fmt.Sprintf("allowed / %s / %s", reasonOf(linkErr), reasonOf(listErr)), "allowed / Forbidden / Forbidden")
		rep.fig(7, "Signed OAuth state (or its signature, or any authorization URL) in the object a viewer reads", seenByViewer, "0")
		rep.note(7, "Status a viewer reads for an object awaiting consent: `%s`.", truncate(string(statusJSON), 600))
	})
}

// retryAfterBound is the longest an object told Retry-After: 86400 may be
// left alone: its poll interval (the default 10m) plus at most 10% jitter.
const retryAfterBound = 11 * time.Minute

var requeueRE = regexp.MustCompile(`"msg":"Reconcile done, requeueing after ([^"]+)".*"namespace":"([^"]+)","name":"([^"]+)"`)

// longestRequeue is the longest requeue the operator logged for the objects
// of namespace ns whose names start with prefix.
func longestRequeue(path, ns, prefix string) time.Duration {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	var longest time.Duration
	for _, m := range requeueRE.FindAllStringSubmatch(string(b), -1) {
		if m[2] != ns || !strings.HasPrefix(m[3], prefix) {
			continue
		}
		if d, err := time.ParseDuration(m[1]); err == nil && d > longest {
			longest = d
		}
	}
	return longest
}

type hostileMode string

const (
	hostilePages      hostileMode = "pages"
	hostileHuge       hostileMode = "huge"
	hostileRetryAfter hostileMode = "retryafter"
)

func (m hostileMode) String() string {
	switch m {
	case hostilePages:
		return "endless pages"
	case hostileHuge:
		return "16 MiB bodies"
	}
	return "429, Retry-After 1 day"
}

type hostileServer struct {
	*httptest.Server
	hits atomic.Int32
}

// startHostile starts a local endpoint that answers every request the way
// its mode says.
func startHostile(m hostileMode) *hostileServer {
	GinkgoHelper()
	h := &hostileServer{}
	var page atomic.Int64
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		switch m {
		case hostilePages:
			n := page.Add(1)
			w.Header().Set(cloudelements.NextPageHeader, fmt.Sprintf("page-%d", n))
			_, _ = fmt.Fprintf(w, `[{"id": %d, "name": "not-yours", "tags": ["someone-else"], "element": {"key": "hubspotcrm"}}]`, 1000000+n)
		case hostileHuge:
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"id": 1, "name": "`))
			chunk := []byte(strings.Repeat("x", 64<<10))
			for range 256 { // 16 MiB, or until the client hangs up
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
			_, _ = w.Write([]byte(`"}`))
		default:
			w.Header().Set("Retry-After", "86400")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"requestId": "hostile", "message": "slow down"}`))
		}
	}))
	DeferCleanup(h.Server.Close)
	return h
}

// nonLoopbackIP is an IPv4 address of this machine that is not loopback.
func nonLoopbackIP() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if ipnet, ok := a.(*net.IPNet); ok && !ipnet.IP.IsLoopback() && ipnet.IP.To4() != nil {
			return ipnet.IP.String()
		}
	}
	return ""
}

func queryParam(raw, name string) string {
	_, q, ok := strings.Cut(raw, "?")
	if !ok {
		return ""
	}
	for _, kv := range strings.Split(q, "&") {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v
		}
	}
	return ""
}

func reasonOf(err error) string {
	if err == nil {
		return "allowed"
	}
	return string(apierrors.ReasonForError(err))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
