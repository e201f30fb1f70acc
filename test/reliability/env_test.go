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
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
	"github.com/hubspot-operator/hubspot-operator/test/harness"
)

// ---------------------------------------------------------------------------
// Randomness and secret values
// ---------------------------------------------------------------------------

// draw returns a seeded random number in [0, n); safe for concurrent use.
func draw(n int) int {
	rngMu.Lock()
	defer rngMu.Unlock()
	return rng.IntN(n)
}

// drawDistinct returns k distinct seeded numbers in [lo, hi], sorted.
func drawDistinct(k, lo, hi int) []int {
	seen := map[int]bool{}
	for len(seen) < k {
		seen[lo+draw(hi-lo+1)] = true
	}
	out := make([]int, 0, k)
	for v := range seen {
		out = append(out, v)
	}
	sort.Ints(out)
	return out
}

// leakRegistry holds every secret value the suite creates or learns (API keys,
// account secrets, client secrets, legacy tokens, authorization codes,
// element tokens, the state signing key), for the leak scan of point 6.
type leakRegistry struct {
	mu     sync.Mutex
	values map[string]string // value → what it is
}

var secrets = &leakRegistry{values: map[string]string{}}

// minSecretLength keeps values that would match ordinary text (the
// whitespace-only and empty keys of the bad-input table) out of the scan.
const minSecretLength = 8

func (r *leakRegistry) add(what, value string) {
	if len(strings.TrimSpace(value)) < minSecretLength {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.values[value]; !ok {
		r.values[value] = what
	}
}

// needles returns every value plus its base64 forms (how a Secret's data
// would appear if an object were ever logged whole), with what each is.
func (r *leakRegistry) needles() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]string, 3*len(r.values))
	for v, what := range r.values {
		if len(v) > 4096 {
			// A huge value is found by its distinctive head (63 bytes: a
			// multiple of 3, so its base64 is a prefix of the whole's).
			v = v[:63]
		}
		out[v] = what
		out[base64.StdEncoding.EncodeToString([]byte(v))] = what + " (base64)"
		out[base64.RawURLEncoding.EncodeToString([]byte(v))] = what + " (base64url)"
	}
	return out
}

// kinds summarises the tracked values by kind, largest first.
func (r *leakRegistry) kinds() string {
	r.mu.Lock()
	counts := map[string]int{}
	for _, what := range r.values {
		if strings.HasPrefix(what, "Secret ") {
			what = "other Secret values"
		}
		counts[what]++
	}
	r.mu.Unlock()
	names := make([]string, 0, len(counts))
	for k := range counts {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		if counts[names[i]] != counts[names[j]] {
			return counts[names[i]] > counts[names[j]]
		}
		return names[i] < names[j]
	})
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%s %d", k, counts[k])
	}
	return strings.Join(parts, ", ")
}

func (r *leakRegistry) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.values)
}

// secretValue makes a distinctive, seeded secret and registers it.
func secretValue(what string) string {
	v := publicValue(what)
	secrets.add(what, v)
	return v
}

// publicValue makes a distinctive, seeded value that is not a secret: an
// OAuth client id, which every authorization URL carries by design.
func publicValue(what string) string {
	rngMu.Lock()
	defer rngMu.Unlock()
	return fmt.Sprintf("%s-%016x%016x", what, rng.Uint64(), rng.Uint64())
}

// ---------------------------------------------------------------------------
// The simulator, behind a recording front
// ---------------------------------------------------------------------------

// sim is a Cloud Elements simulator on its own loopback port, with a front
// that counts create attempts per owner tag, harvests every element token and
// authorization code it hands out (for the leak scan), and can cut the answer
// to a successful create in half (the instance exists, the operator cannot
// read the answer). It also notes when each create arrived, per owner tag, and
// the most creates it was answering at once.
type sim struct {
	*simulator.Simulator
	Name, URL, Endpoint   string
	UserSecret, OrgSecret string
	server                *http.Server

	mu                    sync.Mutex
	createsByOwner        map[string]int
	createTimes           map[string][]time.Time
	inFlight, maxInFlight int
	listPages             [2]int // list requests for the first page, and for a later one

	truncateCreates atomic.Int32
	// holds are the creates held back at the front, by owner-tag prefix.
	holds map[string]*createHold
}

// createHold is one holdCreates.
type createHold struct {
	arrived, release     chan struct{}
	arriveOnce, freeOnce sync.Once
}

// holdCreates holds every create whose owner tag starts with prefix at the
// front, uncommitted, until release is called and its client has given up;
// only then does it reach the simulator, which commits it and answers into
// the void: a platform that acts on a create after the client timed out.
// arrived is closed when the first such create comes in. This makes "the
// object changed hands while its create was in flight" an ordering, not a
// race.
func (s *sim) holdCreates(prefix string) (arrived <-chan struct{}, release func()) {
	h := &createHold{arrived: make(chan struct{}), release: make(chan struct{})}
	s.mu.Lock()
	if s.holds == nil {
		s.holds = map[string]*createHold{}
	}
	s.holds[prefix] = h
	s.mu.Unlock()
	return h.arrived, func() { h.freeOnce.Do(func() { close(h.release) }) }
}

// heldBy is the hold of the first of tags that has one.
func (s *sim) heldBy(tags []string) *createHold {
	s.mu.Lock()
	defer s.mu.Unlock()
	for prefix, h := range s.holds {
		for _, t := range tags {
			if strings.HasPrefix(t, prefix) {
				return h
			}
		}
	}
	return nil
}

var (
	simsMu  sync.Mutex
	sims    []*sim
	simSeq  int64
	tokenRE = regexp.MustCompile(`"token"\s*:\s*"([^"]+)"`)
)

func startSim(name string) *sim {
	GinkgoHelper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	base := "http://" + ln.Addr().String()
	s := &sim{Name: name, URL: base, Endpoint: base + simulator.APIPrefix,
		UserSecret: secretValue("ce-user-secret"), OrgSecret: secretValue("ce-org-secret"),
		createsByOwner: map[string]int{}, createTimes: map[string][]time.Time{}}
	simsMu.Lock()
	simSeq++
	simSeed := seed*1000 + simSeq
	sims = append(sims, s)
	simsMu.Unlock()
	s.Simulator = simulator.New(simulator.Options{UserSecret: s.UserSecret, OrganizationSecret: s.OrgSecret,
		Seed: simSeed, BaseURL: base})
	s.server = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.server.Serve(ln) }()
	return s
}

func (s *sim) close() {
	_ = s.server.Close()
}

func (s *sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	isCreate := r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, simulator.APIPrefix+"/") &&
		strings.HasSuffix(r.URL.Path, "/instances")
	if isCreate {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var req struct {
			Tags []string `json:"tags"`
		}
		_ = json.Unmarshal(body, &req)
		arrived := time.Now()
		s.mu.Lock()
		for _, t := range req.Tags {
			if elementsv1alpha1.IsOwnerTag(t) {
				s.createsByOwner[t]++
				s.createTimes[t] = append(s.createTimes[t], arrived)
			}
		}
		s.inFlight++
		s.maxInFlight = max(s.maxInFlight, s.inFlight)
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.inFlight--
			s.mu.Unlock()
		}()
		if h := s.heldBy(req.Tags); h != nil {
			h.arriveOnce.Do(func() { close(h.arrived) })
			<-h.release
			<-r.Context().Done() // the client gave up
			r = r.WithContext(context.WithoutCancel(r.Context()))
		}
	}
	if r.Method == http.MethodGet && r.URL.Path == simulator.APIPrefix+"/instances" {
		later := 0
		if r.URL.Query().Get("nextPage") != "" {
			later = 1
		}
		s.mu.Lock()
		s.listPages[later]++
		s.mu.Unlock()
	}
	rec := &bufferedWriter{header: http.Header{}}
	s.Simulator.ServeHTTP(rec, r)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	body := rec.body.Bytes()
	for _, m := range tokenRE.FindAllSubmatch(body, -1) {
		secrets.add("element token", string(m[1]))
	}
	if loc := rec.header.Get("Location"); loc != "" {
		if u, err := url.Parse(loc); err == nil {
			for _, k := range []string{"code", "access_token", "refresh_token"} {
				secrets.add("OAuth "+k, u.Query().Get(k))
			}
		}
	}
	if isCreate && rec.status < 300 && takeOne(&s.truncateCreates) {
		body = body[:len(body)/2]
		rec.header.Del("Content-Length")
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.status)
	_, _ = w.Write(body)
}

func takeOne(n *atomic.Int32) bool {
	for {
		v := n.Load()
		if v <= 0 {
			return false
		}
		if n.CompareAndSwap(v, v-1) {
			return true
		}
	}
}

// creates is how many create requests carried this owner tag.
func (s *sim) creates(tag string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.createsByOwner[tag]
}

// repeatedCreates is how many owner tags (of those starting with prefix)
// were sent in more than one create, and the shortest time between two
// creates of one owner tag (0 when none was repeated).
func (s *sim) repeatedCreates(prefix string) (owners int, shortest time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for tag, times := range s.createTimes {
		if !strings.HasPrefix(tag, prefix) || len(times) < 2 {
			continue
		}
		owners++
		for i := 1; i < len(times); i++ {
			if gap := times[i].Sub(times[i-1]); shortest == 0 || gap < shortest {
				shortest = gap
			}
		}
	}
	return owners, shortest
}

// pagesListed is how many list requests asked for the first page of
// instances, and how many for a later one.
func (s *sim) pagesListed() (first, later int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.listPages[0], s.listPages[1]
}

// mostCreatesInFlight is the most create requests the simulator was
// answering at the same time.
func (s *sim) mostCreatesInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight
}

// calls is every answered platform request, by operation, faults included.
func (s *sim) calls() (total int, byOp map[string]int) {
	byOp = map[string]int{}
	for op, codes := range s.Counts() {
		for _, n := range codes {
			byOp[op] += n
			total += n
		}
	}
	return total, byOp
}

// owned returns the simulator's instances carrying the owner tag.
func (s *sim) owned(tag string) []cloudelements.Instance {
	var out []cloudelements.Instance
	for _, inst := range s.Instances() {
		if slices.Contains(inst.Tags, tag) {
			out = append(out, inst)
		}
	}
	return out
}

type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.header }
func (b *bufferedWriter) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}
func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// ---------------------------------------------------------------------------
// Operator processes
// ---------------------------------------------------------------------------

var (
	opsMu        sync.Mutex
	allOperators []*harness.Operator
)

// baseOperatorArgs: the issue's settings for wall time (the default 10
// workers, a generous client-side rate) and V(5) logging, so that every
// reconcile is logged and the leak scan reads as much as production could
// ever print.
var baseOperatorArgs = []string{
	"--zap-log-level=5",
	"--max-concurrent-reconciles=10",
	"--cloud-elements-qps=200",
	"--cloud-elements-burst=400",
}

// newOperator prepares an operator process; its log is kept for the leak scan.
func newOperator(name string, args ...string) *harness.Operator {
	o := &harness.Operator{Bin: operatorBin, Kubeconfig: cp.Kubeconfig,
		LogPath: filepath.Join(workDir, "operator-"+name+".log"),
		Args:    append(slices.Clone(baseOperatorArgs), args...)}
	opsMu.Lock()
	allOperators = append(allOperators, o)
	opsMu.Unlock()
	return o
}

// startOperator starts it and stops it gracefully when the spec ends.
func startOperator(o *harness.Operator) {
	GinkgoHelper()
	Expect(o.Start(ctx)).To(Succeed(), "operator start; log at %s", o.LogPath)
	DeferCleanup(func() { _ = o.Stop() })
}

// metric scrapes one summed metric from an operator.
func metric(o *harness.Operator, name string, match ...string) float64 {
	GinkgoHelper()
	var m map[string]float64
	Eventually(func() error {
		var err error
		m, err = o.Metrics()
		return err
	}).WithTimeout(10 * time.Second).Should(Succeed())
	return harness.Sum(m, name, match...)
}

// panicsAndRestarts is what point 5 requires to stay at zero.
func panicsAndRestarts(o *harness.Operator) (panics float64, restarts int) {
	GinkgoHelper()
	return metric(o, "controller_runtime_reconcile_panics_total"), o.Starts() - 1
}

// tailLog prints the end of a log when a spec fails.
func tailLog(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// reconcileTimes reads every "Reconciling" line (controller-runtime, V(5))
// of the HubSpotInstances in one namespace from an operator log (the
// operator's other controllers, on Secrets say, are left out).
func reconcileTimes(path, namespace string) map[string][]time.Time {
	out := map[string][]time.Time{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.Contains(line, []byte(`"Reconciling"`)) {
			continue
		}
		var entry struct {
			TS        any    `json:"ts"`
			Msg       string `json:"msg"`
			Namespace string `json:"namespace"`
			Name      string `json:"name"`
			Kind      string `json:"controllerKind"`
		}
		if json.Unmarshal(line, &entry) != nil || entry.Msg != "Reconciling" || entry.Namespace != namespace ||
			entry.Kind != "HubSpotInstance" {
			continue
		}
		var at time.Time
		switch ts := entry.TS.(type) {
		case float64:
			at = time.Unix(0, int64(ts*1e9))
		case string:
			at, _ = time.Parse(time.RFC3339Nano, ts)
		}
		out[entry.Name] = append(out[entry.Name], at)
	}
	return out
}

// maxInAnyMinute is the most entries of one list inside any 60s window.
func maxInAnyMinute(times []time.Time) int {
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	best, lo := 0, 0
	for hi := range times {
		for times[hi].Sub(times[lo]) >= time.Minute {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// ---------------------------------------------------------------------------
// Kubernetes objects
// ---------------------------------------------------------------------------

func newNamespace(prefix string) string {
	GinkgoHelper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}
	Expect(k8s.Create(ctx, ns)).To(Succeed())
	return ns.Name
}

// createSecret creates a Secret and registers its values as secrets.
func createSecret(ns, name string, data map[string]string) *corev1.Secret {
	GinkgoHelper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
		if k != "client-id" { // an OAuth client id is public: every authorization URL carries it
			secrets.add("Secret "+ns+"/"+name+" key "+k, v)
		}
	}
	Expect(k8s.Create(ctx, s)).To(Succeed())
	return s
}

// createAccount writes the Cloud Elements account Secret for a simulator.
func createAccount(ns, name string, s *sim) {
	GinkgoHelper()
	createSecret(ns, name, map[string]string{"user-secret": s.UserSecret, "organization-secret": s.OrgSecret})
}

// createAPIKey writes a HubSpot API key Secret.
func createAPIKey(ns, name string) {
	GinkgoHelper()
	createSecret(ns, name, map[string]string{"api-key": secretValue("hubspot-api-key")})
}

// apiKeyObject is the plain API-key HubSpotInstance the crash, fault, blip
// and leader specs apply by the hundred.
func apiKeyObject(ns, name string, s *sim) *elementsv1alpha1.HubSpotInstance {
	return &elementsv1alpha1.HubSpotInstance{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: elementsv1alpha1.HubSpotInstanceSpec{
			Platform: elementsv1alpha1.PlatformSpec{
				Endpoint:             elementsv1alpha1.HTTPURL(s.Endpoint),
				CredentialsSecretRef: elementsv1alpha1.CredentialsSecretRef{Name: "cloud-elements"},
			},
			Tags: []string{"reliability"},
			Auth: elementsv1alpha1.AuthSpec{Type: elementsv1alpha1.AuthTypeAPIKey,
				APIKey: &elementsv1alpha1.APIKeyAuth{SecretRef: elementsv1alpha1.SecretKeySelector{Name: "hubspot-key", Key: "api-key"}}},
		},
	}
}

// createObjects applies n API-key objects, eight at a time.
func createObjects(ns string, s *sim, prefix string, n int) []*elementsv1alpha1.HubSpotInstance {
	GinkgoHelper()
	objs := make([]*elementsv1alpha1.HubSpotInstance, n)
	for i := range objs {
		objs[i] = apiKeyObject(ns, fmt.Sprintf("%s-%03d", prefix, i), s)
	}
	parallel(len(objs), 8, func(i int) error { return k8s.Create(ctx, objs[i]) })
	return objs
}

// parallel runs do(0..n-1) on `workers` goroutines and expects no error.
func parallel(n, workers int, do func(i int) error) {
	GinkgoHelper()
	var (
		wg   sync.WaitGroup
		next atomic.Int64
		mu   sync.Mutex
		errs []error
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := do(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	Expect(errs).To(BeEmpty())
}

func listObjects(ns string) ([]elementsv1alpha1.HubSpotInstance, error) {
	var list elementsv1alpha1.HubSpotInstanceList
	if err := k8s.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	return list.Items, nil
}

func readyCondition(obj *elementsv1alpha1.HubSpotInstance) *metav1.Condition {
	return meta.FindStatusCondition(obj.Status.Conditions, elementsv1alpha1.ConditionReady)
}

// isReady: Ready=True for the current generation.
func isReady(obj *elementsv1alpha1.HubSpotInstance) bool {
	c := readyCondition(obj)
	return c != nil && c.Status == metav1.ConditionTrue && obj.Status.ObservedGeneration == obj.Generation &&
		c.ObservedGeneration == obj.Generation
}

// waitAllReady waits until n objects in ns are Ready and returns them.
func waitAllReady(ns string, n int, timeout time.Duration) []elementsv1alpha1.HubSpotInstance {
	GinkgoHelper()
	var objs []elementsv1alpha1.HubSpotInstance
	Eventually(func(g Gomega) {
		var err error
		objs, err = listObjects(ns)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(objs).To(HaveLen(n))
		notReady := map[string]int{}
		for i := range objs {
			if !isReady(&objs[i]) {
				reason := "no condition yet"
				if c := readyCondition(&objs[i]); c != nil {
					reason = c.Reason
				}
				notReady[reason]++
			}
		}
		g.Expect(notReady).To(BeEmpty(), "objects not Ready yet, by reason")
	}).WithTimeout(timeout).WithPolling(time.Second).Should(Succeed())
	return objs
}

// ownership compares the simulator's instances with the objects.
type ownership struct {
	instances, owners, missing, duplicates, orphans int
	byOwner                                         map[string][]cloudelements.Instance
}

func checkOwnership(s *sim, objs []elementsv1alpha1.HubSpotInstance, tagPrefix string) ownership {
	o := ownership{byOwner: map[string][]cloudelements.Instance{}}
	for _, inst := range s.Instances() {
		for _, t := range inst.Tags {
			// The owner tag, not the name tag that shares its prefix.
			if elementsv1alpha1.IsOwnerTag(t) && strings.HasPrefix(t, tagPrefix) {
				o.instances++
				o.byOwner[t] = append(o.byOwner[t], inst)
			}
		}
	}
	live := map[string]bool{}
	for i := range objs {
		tag := objs[i].OwnerTag()
		live[tag] = true
		switch n := len(o.byOwner[tag]); n {
		case 0:
			o.missing++
		default:
			o.owners++
			o.duplicates += n - 1
		}
	}
	for tag, insts := range o.byOwner {
		if !live[tag] {
			o.orphans += len(insts)
		}
	}
	return o
}

// tokenMatches counts objects whose token Secret holds exactly their own
// instance's token and id.
func tokenMatches(objs []elementsv1alpha1.HubSpotInstance, o ownership) (matches int, problems []string) {
	for i := range objs {
		obj := &objs[i]
		insts := o.byOwner[obj.OwnerTag()]
		if len(insts) != 1 {
			continue
		}
		sec := &corev1.Secret{}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: obj.Namespace, Name: obj.TokenSecretName()}, sec); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", obj.Name, err))
			continue
		}
		inst := insts[0]
		switch {
		case string(sec.Data["token"]) != inst.Token:
			problems = append(problems, obj.Name+": token differs from the simulator's")
		case string(sec.Data["instance-id"]) != fmt.Sprint(inst.ID) || obj.Status.InstanceID != inst.ID:
			problems = append(problems, obj.Name+": instance id differs from the simulator's")
		case !metav1.IsControlledBy(sec, obj):
			problems = append(problems, obj.Name+": token Secret not controlled by the object")
		default:
			matches++
		}
	}
	return matches, problems
}

// events lists core/v1 Events in a namespace ("" for all).
func events(ns string) []corev1.Event {
	GinkgoHelper()
	var list corev1.EventList
	Eventually(func() error { return k8s.List(ctx, &list, client.InNamespace(ns)) }).Should(Succeed())
	return list.Items
}

func countEvents(ns, reason string) int {
	n := 0
	for _, e := range events(ns) {
		if e.Reason == reason {
			n++
		}
	}
	return n
}

// restartAPIServer restarts kube-apiserver, keeping etcd, its data, and the
// serving certificate. envtest's own Stop/Start cannot be used as they are:
// APIServer.Stop forgets a randomly allocated CertDir, so Start
// mints a new serving CA and every client, the operator included, then fails
// TLS verification forever ("x509: certificate signed by unknown
// authority"). Keeping the directory's files and pointing CertDir back at
// them makes the restart what a real one is: same address, same certificate.
//
// The stop is what a kubelet does to a static pod: SIGTERM, then SIGKILL
// after a grace period (apiServerGrace). Under the suite's load kube-apiserver
// can take a minute to drain on SIGTERM, which would be an outage, not a blip.
func restartAPIServer() (stop, start time.Duration, graceful bool, err error) {
	api := cp.Env.ControlPlane.APIServer
	dir := api.CertDir
	files := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0, false, err
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				return 0, 0, false, err
			}
			files[e.Name()] = b
		}
	}
	pid, err := childPID("kube-apiserver")
	if err != nil {
		return 0, 0, false, err
	}
	started := time.Now()
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return 0, 0, false, err
	}
	graceful = true
	for alive(pid) {
		if time.Since(started) > apiServerGrace {
			graceful = false
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := api.Stop(); err != nil { // reaped already: only envtest's bookkeeping
		return 0, 0, false, fmt.Errorf("stopping kube-apiserver: %w", err)
	}
	stop = time.Since(started)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, 0, false, err
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return 0, 0, false, err
		}
	}
	api.CertDir = dir
	keptCertDirs = append(keptCertDirs, dir)
	restarted := time.Now()
	if err := api.Start(); err != nil {
		return 0, 0, false, fmt.Errorf("starting kube-apiserver again: %w", err)
	}
	return stop, time.Since(restarted), graceful, nil
}

// apiServerGrace is the grace period of the kube-apiserver stop.
const apiServerGrace = 5 * time.Second

// childPID finds the one child process of this test with the given name.
func childPID(name string) (int, error) {
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	var found []int
	for _, path := range dirs {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		open, closing := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if open < 0 || closing < open {
			continue
		}
		fields := strings.Fields(string(b[closing+1:]))
		if string(b[open+1:closing]) != name || len(fields) < 2 || fields[1] != fmt.Sprint(os.Getpid()) || fields[0] == "Z" {
			continue
		}
		var pid int
		if _, err := fmt.Sscan(string(b[:open]), &pid); err == nil {
			found = append(found, pid)
		}
	}
	if len(found) != 1 {
		return 0, fmt.Errorf("expected one %s child process, found %v", name, found)
	}
	return found[0], nil
}

// alive: the process exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && !strings.HasPrefix(strings.TrimSpace(string(b[i+1:])), "Z")
}

// keptCertDirs are no longer cleaned by envtest once restarted this way.
var keptCertDirs []string

func progress(format string, args ...any) {
	fmt.Fprintf(GinkgoWriter, "[%6.1fs] %s\n", time.Since(suiteStarted).Seconds(), fmt.Sprintf(format, args...))
}

// expectOrFinding is Expect(ok).To(BeTrue()) for a requirement that code
// outside this suite does not meet yet. The suite does not fix such code: the
// miss is printed and recorded in the report's Findings (with file, line and
// a suggested fix) and marks the point "known issue"; it fails the spec only
// when RELIABILITY_STRICT=1, so the lead decides when it becomes a gate.
func expectOrFinding(n int, ok bool, format string, args ...any) {
	GinkgoHelper()
	if ok {
		return
	}
	text := expandLocs(fmt.Sprintf(format, args...))
	rep.finding("(point %d) %s", n, text)
	rep.knownIssue(n)
	fmt.Fprintf(GinkgoWriter, "KNOWN ISSUE (point %d): %s\n", n, text)
	if os.Getenv("RELIABILITY_STRICT") != "" {
		Fail(text)
	}
}

// locRE marks a source location in a finding: {file|text on the line}.
var locRE = regexp.MustCompile(`\{([^|{}]+)\|([^{}]+)\}`)

// expandLocs turns every {file|text} into file:line of the first line
// holding text, read when the finding is made, so findings keep pointing at
// the right line while other engineers edit the code.
func expandLocs(text string) string {
	return locRE.ReplaceAllStringFunc(text, func(m string) string {
		parts := locRE.FindStringSubmatch(m)
		file, needle := parts[1], parts[2]
		if b, err := os.ReadFile(filepath.Join(root, file)); err == nil {
			for i, line := range strings.Split(string(b), "\n") {
				if strings.Contains(line, needle) {
					return fmt.Sprintf("`%s:%d`", file, i+1)
				}
			}
		}
		return "`" + file + "`"
	})
}

// awaitingConsent applies an OAuth 2 object with callbackURL, and returns it
// once it waits for consent, with the authorization link it published: what
// the callback specs answer, forge or flood, and a viewer must not see.
func awaitingConsent(ns string, s *sim, callbackURL string,
	waitReason func(client.ObjectKey, string) *elementsv1alpha1.HubSpotInstance,
) (waiting *elementsv1alpha1.HubSpotInstance, authorizationURL string) {
	GinkgoHelper()
	createAccount(ns, "cloud-elements", s)
	createSecret(ns, "hubspot-app", map[string]string{"client-id": publicValue("oauth-client-id"), "client-secret": secretValue("oauth-client-secret")})
	obj := apiKeyObject(ns, "consent", s)
	obj.Spec.Auth = elementsv1alpha1.AuthSpec{Type: elementsv1alpha1.AuthTypeOAuth2, OAuth2: &elementsv1alpha1.OAuth2Auth{
		ClientSecretRef: elementsv1alpha1.OAuthClientSecretRef{Name: "hubspot-app"},
		Scopes:          []string{"crm.objects.contacts.read", "oauth"},
		CallbackURL:     elementsv1alpha1.HTTPURL(callbackURL)}}
	Expect(k8s.Create(ctx, obj)).To(Succeed())
	waiting = waitReason(client.ObjectKeyFromObject(obj), elementsv1alpha1.ReasonAwaitingAuthorization)
	linkSecret := &corev1.Secret{}
	Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: waiting.Status.AuthorizationSecretName}, linkSecret)).To(Succeed())
	authorizationURL = string(linkSecret.Data[elementsv1alpha1.AuthorizationURLKey])
	Expect(authorizationURL).NotTo(BeEmpty())
	return waiting, authorizationURL
}
