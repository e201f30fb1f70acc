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

package browser_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

// browserTimeout bounds everything the browser does in one spec.
const browserTimeout = time.Minute

// violationRecorder runs in every document before the page's own content
// (it is the DevTools protocol's to run, so the page's Content-Security-
// Policy does not apply to it) and keeps each securitypolicyviolation the
// document reports: a style, image or anything else the page's own policy
// blocked.
const violationRecorder = `window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(
	e.effectiveDirective + ' blocked ' + (e.blockedURI || 'inline') + ' (policy: ' + e.originalPolicy + ')'));`

// session is one headless Chromium with one tab, and everything that tab
// wrote to its console (console API calls, uncaught exceptions and the
// browser's own log, where Content-Security-Policy violations go).
type session struct {
	ctx     context.Context
	version *browser.GetVersionResult

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// startBrowser starts headless Chromium. As root its sandbox cannot start,
// so it runs with --no-sandbox there, as in a container.
func startBrowser() *session {
	GinkgoHelper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browserPath),
		chromedp.WindowSize(1024, 768),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx,
		chromedp.WithLogf(func(format string, args ...any) { fmt.Fprintf(GinkgoWriter, "chromedp: "+format+"\n", args...) }))
	timeoutCtx, cancelTimeout := context.WithTimeout(tabCtx, browserTimeout)
	DeferCleanup(func() {
		cancelTimeout()
		cancelTab() // closes the browser and removes its temporary profile
		cancelAlloc()
	})
	s := &session{ctx: timeoutCtx}

	version, err := chromedp.Call(s.ctx, browser.GetVersion, cdp.Empty{})
	Expect(err).NotTo(HaveOccurred(), "starting the browser %s", browserPath)
	s.version = &version
	fmt.Fprintf(GinkgoWriter, "browser %s: %s (DevTools protocol %s); chromedp %s\n",
		browserPath, version.Product, version.ProtocolVersion, moduleVersion("github.com/chromedp/chromedp"))
	AddReportEntry("browser", fmt.Sprintf("%s (%s), chromedp %s", version.Product, browserPath, moduleVersion("github.com/chromedp/chromedp")))

	messages := chromedp.Console(s.ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			s.mu.Lock()
			s.console = append(s.console, m)
			s.mu.Unlock()
		}
	}()
	_, err = chromedp.Call(s.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: violationRecorder})
	Expect(err).NotTo(HaveOccurred())
	return s
}

// consoleMessages is what the tab has written to its console so far, one
// line each, with the address it came from.
func (s *session) consoleMessages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var lines []string
	for _, m := range s.console {
		line := m.String()
		if m.Source != "" {
			line += " [" + m.Source + "]"
		}
		if m.URL != "" {
			line += " at " + m.URL
		}
		lines = append(lines, line)
	}
	return lines
}

// violations is what the current document's own policy blocked.
func (s *session) violations() []string {
	GinkgoHelper()
	v, err := chromedp.Run(s.ctx, chromedp.Evaluate[[]string](`window.__cspViolations`))
	Expect(err).NotTo(HaveOccurred())
	Expect(v).NotTo(BeNil(), "the violation recorder did not run in this document")
	return v
}

func (s *session) text(selector string) string {
	GinkgoHelper()
	text, err := chromedp.Run(s.ctx, chromedp.Text(chromedp.CSS(selector)))
	Expect(err).NotTo(HaveOccurred(), "reading %q", selector)
	return strings.TrimSpace(text)
}

// screenshot saves a PNG of the whole page in the artifacts folder.
func (s *session) screenshot(name string) {
	GinkgoHelper()
	png, err := chromedp.Run(s.ctx, chromedp.FullScreenshot(100))
	Expect(err).NotTo(HaveOccurred())
	Expect(png).To(HavePrefix("\x89PNG\r\n\x1a\n"))
	path := filepath.Join(artifactsDir, name)
	Expect(os.WriteFile(path, png, 0o644)).To(Succeed())
	fmt.Fprintf(GinkgoWriter, "screenshot: %s (%d bytes)\n", path, len(png))
	AddReportEntry("screenshot "+name, fmt.Sprintf("%s (%d bytes)", path, len(png)))
}

// header reads a response header whatever the case of its name.
func header(resp *network.Response, name string) string {
	for key, value := range resp.Headers {
		if strings.EqualFold(key, name) {
			return fmt.Sprint(value)
		}
	}
	return ""
}

// newNamespace gives the spec its own namespace (envtest never finishes
// deleting one, so none is deleted).
func newNamespace() string {
	GinkgoHelper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "browser-"}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	return ns.Name
}

var _ = Describe("The OAuth 2 consent in a browser", func() {
	It("takes a person from the consent link through HubSpot's consent page to the operator's callback page, and the object becomes Ready", func() {
		ns := newNamespace()
		for name, data := range map[string]map[string]string{
			"cloud-elements": {"user-secret": userSecret, "organization-secret": organizationSecret},
			"hubspot-app":    {"client-id": "hubspot-client-id", "client-secret": "hubspot-client-secret"},
		} {
			Expect(k8sClient.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, StringData: data})).To(Succeed())
		}
		obj := &elementsv1alpha1.HubSpotInstance{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "crm"},
			Spec: elementsv1alpha1.HubSpotInstanceSpec{
				Platform: elementsv1alpha1.PlatformSpec{
					Endpoint:             elementsv1alpha1.HTTPURL(sim.Endpoint),
					CredentialsSecretRef: elementsv1alpha1.CredentialsSecretRef{Name: "cloud-elements"},
				},
				Auth: elementsv1alpha1.AuthSpec{Type: elementsv1alpha1.AuthTypeOAuth2, OAuth2: &elementsv1alpha1.OAuth2Auth{
					ClientSecretRef: elementsv1alpha1.OAuthClientSecretRef{Name: "hubspot-app"},
					Scopes:          []string{"crm.objects.contacts.read", "oauth"},
					CallbackURL:     elementsv1alpha1.HTTPURL(callbackURL),
				}},
			},
		}
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		// While the manager and the simulator still run: the finalizer
		// deletes the instance at Cloud Elements.
		DeferCleanup(func() {
			Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, obj))).To(Succeed())
			Eventually(func() bool {
				return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), &elementsv1alpha1.HubSpotInstance{}))
			}).Should(BeTrue(), "the finalizer should let the object go")
		})

		By("reading the consent link as a person does: Ready=False says which Secret holds it")
		var link string
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
			ready := meta.FindStatusCondition(obj.Status.Conditions, elementsv1alpha1.ConditionReady)
			g.Expect(ready).NotTo(BeNil())
			g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(ready.Reason).To(Equal(elementsv1alpha1.ReasonAwaitingAuthorization))
			g.Expect(obj.Status.AuthorizationSecretName).NotTo(BeEmpty())
			g.Expect(ready.Message).To(ContainSubstring("Secret " + obj.Status.AuthorizationSecretName))
			sec := &corev1.Secret{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: obj.Status.AuthorizationSecretName}, sec)).To(Succeed())
			link = string(sec.Data[elementsv1alpha1.AuthorizationURLKey])
			g.Expect(link).To(HavePrefix(sim.URL + "/simulator/hubspot/oauth/authorize?"))
		}).Should(Succeed())
		fmt.Fprintf(GinkgoWriter, "consent link from Secret %s/%s: %s\n", ns, obj.Status.AuthorizationSecretName, link)

		s := startBrowser()

		By("opening the link in headless Chromium: HubSpot's (simulated) consent page asks to Allow")
		consentResp, err := chromedp.Run(s.ctx, chromedp.NavigateResponse(link))
		Expect(err).NotTo(HaveOccurred())
		Expect(consentResp.Status).To(BeEquivalentTo(200), "the consent page: %s", consentResp.URL)
		Expect(consentResp.MimeType).To(Equal("text/html"))
		Expect(chromedp.Do(s.ctx, chromedp.WaitVisible(chromedp.CSS("#allow")))).To(Succeed())
		Expect(s.text("h1")).To(Equal("Allow access to your HubSpot account?"))
		Expect(s.text("main")).To(ContainSubstring("hubspot-client-id"), "the page names the app")
		Expect(s.text("main")).To(ContainSubstring("crm.objects.contacts.read"), "the page names the scopes")
		Expect(s.text("#allow")).To(Equal("Allow"))
		s.screenshot("consent-page.png")
		Expect(s.violations()).To(BeEmpty(), "the consent page's own Content-Security-Policy blocked part of it")

		By("clicking Allow: the browser lands on the operator's callback page")
		callbackResp, err := chromedp.RunResponse(s.ctx, chromedp.Click(chromedp.CSS("#allow")))
		Expect(err).NotTo(HaveOccurred())
		landed, err := url.Parse(callbackResp.URL)
		Expect(err).NotTo(HaveOccurred())
		Expect(landed.Scheme + "://" + landed.Host + landed.Path).To(Equal(callbackURL))
		Expect(landed.Query().Get("code")).NotTo(BeEmpty(), "the simulated HubSpot sends the code")
		Expect(landed.Query().Get("state")).NotTo(BeEmpty(), "and the operator's state")
		Expect(callbackResp.Status).To(BeEquivalentTo(200))
		csp := header(callbackResp, "Content-Security-Policy")
		Expect(csp).To(ContainSubstring("default-src 'none'"), "the callback page is served with its Content-Security-Policy")
		location, err := chromedp.Run(s.ctx, chromedp.Location())
		Expect(err).NotTo(HaveOccurred())
		Expect(location).To(HavePrefix(callbackURL + "?"))

		By("reading the callback page's message from the DOM")
		Expect(s.text("h1")).To(Equal("Authorization received"))
		Expect(s.text("main > p")).To(HavePrefix("Thank you: HubSpot's consent reached the operator"))
		Expect(s.text("main")).To(ContainSubstring("kubectl get hsi -n " + ns + " crm"))
		// The page's only resource is its inline style, which its policy
		// allows: the heading takes the style's green.
		color, err := chromedp.Run(s.ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector('h1')).color`))
		Expect(err).NotTo(HaveOccurred())
		Expect(color).To(Equal("rgb(26, 127, 55)"), "the inline style applies (not blocked by the page's Content-Security-Policy %q)", csp)
		s.screenshot("callback-page.png")

		By("finding nothing blocked by the Content-Security-Policy and nothing in the console")
		Expect(s.violations()).To(BeEmpty(), "the callback page's own Content-Security-Policy (%q) blocked part of it", csp)
		Consistently(s.consoleMessages).WithTimeout(300*time.Millisecond).Should(BeEmpty(), "console messages of the consent and callback pages")

		By("checking that a violation would have been seen: an image the policy forbids")
		_, err = chromedp.Run(s.ctx, chromedp.Evaluate[chromedp.Void](`(() => { const img = document.createElement('img');
			img.src = 'data:image/gif;base64,R0lGODlhAQABAAAAACw='; document.body.appendChild(img); })()`))
		Expect(err).NotTo(HaveOccurred())
		Eventually(s.violations).Should(ContainElement(HavePrefix("img-src blocked data")), "the recorder sees a blocked image")
		Eventually(s.consoleMessages).Should(ContainElement(ContainSubstring("Content Security Policy")), "the console shows it too")
		fmt.Fprintf(GinkgoWriter, "the control violation, as the page saw it: %v\nand in the console: %v\n", s.violations(), s.consoleMessages())

		By("waiting for the object to become Ready")
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
			ready := meta.FindStatusCondition(obj.Status.Conditions, elementsv1alpha1.ConditionReady)
			g.Expect(ready).NotTo(BeNil())
			g.Expect(ready.Status).To(Equal(metav1.ConditionTrue), "Ready: %s/%s", ready.Reason, ready.Message)
		}).Should(Succeed())
		Expect(sim.Instances()).To(HaveLen(1), "one instance at Cloud Elements")
		token := &corev1.Secret{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: obj.TokenSecretName()}, token)).To(Succeed())
		Expect(string(token.Data[elementsv1alpha1.TokenKey])).To(Equal(sim.Instances()[0].Token))
	})
})
