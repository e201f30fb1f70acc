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
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hubspot-operator/hubspot-operator/hack/gen-chart/chartgen"
)

// kube-score is pinned in its own module, hack/tools/kube-score (its
// v1.20.0 imports k8s.io/api/autoscaling/v2beta1 and v2beta2, which the
// k8s.io/api this module needs no longer has), and run as
// `go -C hack/tools/kube-score tool kube-score`.
const kubeScoreModule = "hack/tools/kube-score"

// kubernetesVersion is what kube-score checks API versions against: the
// version envtest runs.
const kubernetesVersion = "v1.37"

// An ignored CRITICAL check, and why.
type ignore struct{ check, reason string }

var (
	ignorePullPolicy = ignore{"container-image-pull-policy",
		"the image tag is a release version, never re-pushed: IfNotPresent, Kubernetes' default for such a tag, lets pods start while the registry is unreachable (set image.pullPolicy=Always for a mutable tag)"}
	ignoreNoNetworkPolicy = ignore{"pod-networkpolicy",
		"NetworkPolicies are opt-in (config/network-policy, networkPolicy.enabled): they need a CNI that enforces them; the renders with them on are scored too"}
)

// A render scored by kube-score, and the CRITICAL checks it may fail.
type scored struct {
	name    string
	render  func(root string) ([]byte, error)
	ignores []ignore
}

func helmRender(args ...string) func(string) ([]byte, error) {
	return func(root string) ([]byte, error) {
		return chartgen.HelmTemplate(root, "hubspot-operator", operatorNamespace, args...)
	}
}

var scoredRenders = []scored{
	{"kustomize build config/default", func(root string) ([]byte, error) {
		return chartgen.Kustomize(root, "config/default")
	}, []ignore{ignorePullPolicy, ignoreNoNetworkPolicy}},
	{"kustomize build config/default with the network-policy and high-availability components", func(root string) ([]byte, error) {
		return chartgen.KustomizeWithComponents(root, "config/default", "../network-policy", "../high-availability")
	}, []ignore{ignorePullPolicy}},
	{"kustomize build config/namespaced", func(root string) ([]byte, error) {
		return chartgen.Kustomize(root, "config/namespaced")
	}, []ignore{ignorePullPolicy, ignoreNoNetworkPolicy}},
	{"helm template, default values", helmRender(), []ignore{ignorePullPolicy, ignoreNoNetworkPolicy}},
	{"helm template networkPolicy.enabled=true replicaCount=2", helmRender(
		"--set", "networkPolicy.enabled=true", "--set", "replicaCount=2"), []ignore{ignorePullPolicy}},
	{"helm template with two shards, networkPolicy.enabled=true, replicaCount=2", helmRender(
		"--set", "networkPolicy.enabled=true", "--set", "replicaCount=2",
		"--set", "sharding.enabled=true", "--set", "sharding.shards={shard1,shard2}"), []ignore{ignorePullPolicy}},
}

// kube-score's JSON output (-o json, v2).
type scoredObject struct {
	ObjectName string `json:"object_name"`
	Checks     []struct {
		Check struct {
			Name string `json:"name"`
			ID   string `json:"id"`
		} `json:"check"`
		Grade    int  `json:"grade"`
		Skipped  bool `json:"skipped"`
		Comments []struct {
			Path        string `json:"path"`
			Summary     string `json:"summary"`
			Description string `json:"description"`
		} `json:"comments"`
	} `json:"checks"`
}

// kube-score's grades.
const (
	gradeCritical = 1
	gradeWarning  = 5
)

// TestKubeScore scores every render with kube-score and fails on any
// CRITICAL check that the render does not ignore, with its reason — and on
// an ignore that no longer matches anything. Warnings are logged.
func TestKubeScore(t *testing.T) {
	root, err := chartgen.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range scoredRenders {
		t.Run(r.name, func(t *testing.T) {
			manifests, err := r.render(root)
			if err != nil {
				t.Fatal(err)
			}
			objs, err := kubeScore(root, manifests)
			if err != nil {
				t.Fatal(err)
			}
			if len(objs) == 0 {
				t.Fatal("kube-score scored nothing")
			}
			reasons := map[string]string{}
			for _, ig := range r.ignores {
				reasons[ig.check] = ig.reason
			}
			used := map[string]bool{}
			for _, o := range objs {
				for _, c := range o.Checks {
					if c.Skipped || c.Grade > gradeWarning {
						continue
					}
					var details []string
					for _, cm := range c.Comments {
						details = append(details, strings.TrimPrefix(cm.Path+": ", ": ")+cm.Summary)
					}
					line := fmt.Sprintf("%s: [%s] %s: %s", o.ObjectName, c.Check.ID, c.Check.Name, strings.Join(details, "; "))
					switch reason, ignored := reasons[c.Check.ID]; {
					case c.Grade > gradeCritical:
						t.Logf("WARNING %s", line)
					case ignored:
						used[c.Check.ID] = true
						t.Logf("CRITICAL, ignored (%s) %s", reason, line)
					default:
						t.Errorf("CRITICAL %s", line)
					}
				}
			}
			for _, ig := range r.ignores {
				if !used[ig.check] {
					t.Errorf("ignores %s, which kube-score no longer reports CRITICAL here: drop the ignore", ig.check)
				}
			}
		})
	}
}

func kubeScore(root string, manifests []byte) ([]scoredObject, error) {
	cmd := exec.Command("go", "-C", filepath.Join(root, kubeScoreModule), "tool", "kube-score",
		"score", "--output-format", "json", "--kubernetes-version", kubernetesVersion, "-")
	cmd.Env = append(os.Environ(), "GOWORK=off")
	cmd.Stdin = bytes.NewReader(manifests)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	// kube-score exits 1 when anything is CRITICAL, ignored or not.
	if exit := (*exec.ExitError)(nil); err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		return nil, fmt.Errorf("kube-score: %w\n%s", err, stderr.String())
	}
	var objs []scoredObject
	if err := json.Unmarshal(stdout.Bytes(), &objs); err != nil {
		return nil, fmt.Errorf("kube-score's output: %w\n%s%s", err, stdout.String(), stderr.String())
	}
	return objs, nil
}
