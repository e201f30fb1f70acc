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
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
)

const (
	nsDeleteObjects = 24
	nsDeleteOrphans = 4
	// nsDeleteFailures is how many DELETE calls the simulator answers 503
	// first, so the namespace's deletion meets transient platform errors.
	nsDeleteFailures = 6
	// nsDeleteBound is how long the namespace may take to disappear.
	nsDeleteBound = 90 * time.Second
)

// namespaceDeletion: a namespace holding Ready objects is deleted by the
// real namespace controller (kube-controller-manager), the way a team
// tears down an environment.
func namespaceDeletion() {
	It(fmt.Sprintf("deletes a namespace holding %d Ready objects: instances deleted (%d with deletionPolicy Orphan kept), the namespace gone", nsDeleteObjects, nsDeleteOrphans), func() {
		s := startSim("nsdelete")
		ns := newNamespace("nsdelete")
		createAccount(ns, "cloud-elements", s)
		createAPIKey(ns, "hubspot-key")
		op := newOperator("nsdelete", "--watch-namespaces="+ns)
		startOperator(op)
		dumpOnFailure(op)

		objs := make([]*elementsv1alpha1.HubSpotInstance, nsDeleteObjects)
		orphan := map[string]bool{}
		for i := range objs {
			objs[i] = apiKeyObject(ns, fmt.Sprintf("nsdel-%03d", i), s)
			if i%(nsDeleteObjects/nsDeleteOrphans) == 0 {
				objs[i].Spec.DeletionPolicy = elementsv1alpha1.DeletionPolicyOrphan
				orphan[objs[i].Name] = true
			}
		}
		Expect(orphan).To(HaveLen(nsDeleteOrphans))
		parallel(len(objs), 8, func(i int) error { return k8s.Create(ctx, objs[i]) })
		ready := waitAllReady(ns, nsDeleteObjects, 2*time.Minute)
		own := checkOwnership(s, ready, elementsv1alpha1.OwnerTagNamespacePrefix(ns))
		Expect(own.instances).To(Equal(nsDeleteObjects))
		Expect(own.duplicates).To(BeZero())

		creds := &corev1.Secret{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "cloud-elements"}, creds)).To(Succeed())
		credsFinalizers := fmt.Sprint(creds.Finalizers)

		By("deleting the namespace, the first DELETE calls answered 503")
		s.SetFault(simulator.OpDelete, simulator.Fault{FailNext: nsDeleteFailures, Status: 503})
		started := time.Now()
		Expect(k8s.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		var last string
		Eventually(func() bool {
			got := &corev1.Namespace{}
			err := k8s.Get(ctx, client.ObjectKey{Name: ns}, got)
			if apierrors.IsNotFound(err) {
				return true
			}
			if err == nil {
				last = fmt.Sprintf("phase %s, conditions %v", got.Status.Phase, got.Status.Conditions)
			}
			return false
		}).WithTimeout(nsDeleteBound+30*time.Second).WithPolling(250*time.Millisecond).Should(BeTrue(), func() string { return "namespace still there: " + last })
		took := time.Since(started)
		s.ClearFaults()

		kept, deletedLeft := 0, 0
		for tag, insts := range own.byOwner {
			now := s.owned(tag)
			name := ""
			for _, o := range ready {
				if o.OwnerTag() == tag {
					name = o.Name
				}
			}
			switch {
			case orphan[name] && len(now) == 1 && now[0].ID == insts[0].ID:
				kept++
			case !orphan[name]:
				deletedLeft += len(now)
			}
		}
		failed := s.Counts()[simulator.OpDelete][503]
		deletes := s.Total(simulator.OpDelete)

		rep.fig(1, "Namespace deletion: Ready objects in the namespace (deletionPolicy Delete / Orphan)",
			fmt.Sprintf("%d (%d / %d)", nsDeleteObjects, nsDeleteObjects-nsDeleteOrphans, nsDeleteOrphans), "≥ 20, a few Orphan")
		rep.fig(1, "Namespace deletion: finalizers on the credentials Secret before the delete", credsFinalizers, "")
		rep.fig(1, "Namespace deletion: DELETE calls answered 503 / answered in all", fmt.Sprintf("%d / %d", failed, deletes), fmt.Sprintf("%d / –", nsDeleteFailures))
		rep.fig(1, "Namespace deletion: instances of Delete objects left at the simulator", deletedLeft, "0")
		rep.fig(1, "Namespace deletion: instances of Orphan objects kept (same id)", kept, fmt.Sprint(nsDeleteOrphans))
		rep.fig(1, "Namespace deletion: time from the namespace's delete to the namespace gone", took, "≤ "+nsDeleteBound.String())
		rep.note(1, "Namespace deletion: the namespace is deleted with the real namespace controller and garbage collector (kube-controller-manager, started by the harness). "+
			"The credentials Secret carries the credentials-in-use finalizer while an object with deletionPolicy Delete may still need it to delete its instance; "+
			"the first %d DELETE calls at the simulator are answered 503, so the deletion also has to retry.", nsDeleteFailures)
		rep.addHeadline(1, fmt.Sprintf("namespace of %d Ready objects deleted in %s, %d instances left, %d Orphan kept",
			nsDeleteObjects, took.Round(100*time.Millisecond), deletedLeft, kept))

		Expect(failed).To(Equal(nsDeleteFailures), "the injected DELETE failures were met")
		Expect(deletedLeft).To(BeZero())
		Expect(kept).To(Equal(nsDeleteOrphans))
		Expect(took).To(BeNumerically("<=", nsDeleteBound))
		Expect(op.Running()).To(BeTrue())
	})
}
