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

// Package argocd_test tests resource_customizations/ — the HubSpotInstance
// health check and resource actions, laid out as in Argo CD's own
// resource_customizations/<group>/<kind>/ — the way Argo CD's
// util/lua/health_test.go and custom_actions_test.go test theirs: every case
// of health_test.yaml and actions/action_test.yaml is run through a Lua VM set
// up as Argo CD's is (vm_test.go). It also keeps argocd-cm.yaml, the same
// scripts as argocd-cm keys, up to date (-update rewrites it) and runs the
// cases again through the scripts read back from it.
package argocd_test

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

const (
	customizations = "resource_customizations"
	configMapFile  = "argocd-cm.yaml"
)

var update = flag.Bool("update", false, "rewrite "+configMapFile+" from "+customizations+"/")

// Argo CD's health_test.yaml.
type healthTests struct {
	Tests []struct {
		HealthStatus healthStatus `json:"healthStatus"`
		InputPath    string       `json:"inputPath"`
	} `json:"tests"`
}

type healthStatus struct {
	Status  string `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
}

// Argo CD's actions/action_test.yaml.
type actionTests struct {
	DiscoveryTests []struct {
		InputPath string           `json:"inputPath"`
		Result    []resourceAction `json:"result"`
	} `json:"discoveryTests"`
	ActionTests []struct {
		Action               string            `json:"action"`
		InputPath            string            `json:"inputPath"`
		ExpectedOutputPath   string            `json:"expectedOutputPath"`
		ExpectedErrorMessage string            `json:"expectedErrorMessage"`
		Parameters           map[string]string `json:"parameters"`
	} `json:"actionTests"`
}

// resourceAction is Argo CD's ResourceAction, as discovery.lua describes one.
type resourceAction struct {
	Name        string `json:"name"`
	Disabled    bool   `json:"disabled,omitempty"`
	IconClass   string `json:"iconClass,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	Params      []struct {
		Name    string `json:"name"`
		Type    string `json:"type,omitempty"`
		Default string `json:"default,omitempty"`
	} `json:"params,omitempty"`
}

// scripts are one kind's health check and actions.
type scripts struct {
	health    string
	discovery string
	actions   map[string]string // action name: action.lua
}

// kindDir is a resource_customizations/<group>/<kind> folder.
type kindDir struct {
	dir, group, kind string
}

func (k kindDir) key() string { return k.group + "_" + k.kind }

func kindDirs(t *testing.T) []kindDir {
	t.Helper()
	var out []kindDir
	groups, err := os.ReadDir(customizations)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		kinds, err := os.ReadDir(filepath.Join(customizations, g.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range kinds {
			out = append(out, kindDir{filepath.Join(customizations, g.Name(), k.Name()), g.Name(), k.Name()})
		}
	}
	if len(out) == 0 {
		t.Fatalf("no kinds in %s", customizations)
	}
	return out
}

func read(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

func readOptional(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// filesOf reads a kind's scripts from its folder.
func filesOf(t *testing.T, k kindDir) scripts {
	t.Helper()
	s := scripts{
		health:    readOptional(t, filepath.Join(k.dir, "health.lua")),
		discovery: readOptional(t, filepath.Join(k.dir, "actions", "discovery.lua")),
		actions:   map[string]string{},
	}
	entries, err := os.ReadDir(filepath.Join(k.dir, "actions"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() && e.Name() != "testdata" {
			s.actions[e.Name()] = read(t, filepath.Join(k.dir, "actions", e.Name(), "action.lua"))
		}
	}
	if s.discovery == "" && len(s.actions) > 0 {
		t.Fatalf("%s has actions but no actions/discovery.lua", k.dir)
	}
	return s
}

func object(t *testing.T, path string) map[string]any {
	t.Helper()
	var obj map[string]any
	if err := yaml.Unmarshal([]byte(read(t, path)), &obj); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return obj
}

// The two ways Argo CD runs a script: as a built-in (open libraries; also
// how its tests run discovery.lua) and from argocd-cm (no open libraries).
var libModes = []struct {
	name     string
	openLibs bool
}{{"openlibs", true}, {"argocd-cm", false}}

func TestLuaHealthScript(t *testing.T) {
	for _, k := range kindDirs(t) {
		testHealth(t, k, filesOf(t, k))
	}
}

func TestLuaResourceActionsScript(t *testing.T) {
	for _, k := range kindDirs(t) {
		testActions(t, k, filesOf(t, k))
	}
}

// testHealth runs health_test.yaml, as Argo CD's TestLuaHealthScript does:
// the script's status and message must be the expected ones exactly.
func testHealth(t *testing.T, k kindDir, s scripts) {
	if s.health == "" {
		return
	}
	var cases healthTests
	if err := yaml.UnmarshalStrict([]byte(read(t, filepath.Join(k.dir, "health_test.yaml"))), &cases); err != nil {
		t.Fatalf("%s/health_test.yaml: %v", k.dir, err)
	}
	if len(cases.Tests) == 0 {
		t.Fatalf("%s/health_test.yaml lists no tests", k.dir)
	}
	for _, tc := range cases.Tests {
		for _, mode := range libModes {
			t.Run(filepath.Join(k.group, k.kind, tc.InputPath, mode.name), func(t *testing.T) {
				got, err := runHealth(vm{openLibs: mode.openLibs}, object(t, filepath.Join(k.dir, tc.InputPath)), s.health)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.HealthStatus, got); diff != "" {
					t.Errorf("health (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// runHealth is Argo CD's ExecuteHealthLua: the returned table decoded as a
// HealthStatus, an unknown status replaced by Unknown.
func runHealth(v vm, obj map[string]any, script string) (healthStatus, error) {
	ret, err := v.run(obj, script, nil)
	if err != nil {
		return healthStatus{}, err
	}
	var hs healthStatus
	switch ret := ret.(type) {
	case nil, []any: // nil, or an empty table
		return hs, nil
	case map[string]any:
		if err := remarshal(ret, &hs); err != nil {
			return hs, err
		}
	default:
		return hs, fmt.Errorf("expect table output from Lua script, not %T", ret)
	}
	switch hs.Status {
	case "Unknown", "Progressing", "Suspended", "Healthy", "Degraded", "Missing":
		return hs, nil
	}
	return healthStatus{Status: "Unknown", Message: "Lua returned an invalid health status"}, nil
}

func remarshal(in, out any) error {
	raw, err := yaml.Marshal(in)
	if err != nil {
		return err
	}
	return yaml.Unmarshal(raw, out)
}

// testActions runs actions/action_test.yaml as Argo CD's
// TestLuaResourceActionsScript does: discovery.lua must offer the listed
// actions, and each action.lua, run on the input without the open
// libraries, must return the expected object.
func testActions(t *testing.T, k kindDir, s scripts) {
	path := filepath.Join(k.dir, "actions", "action_test.yaml")
	raw := readOptional(t, path)
	if raw == "" {
		if s.discovery != "" {
			t.Fatalf("%s has actions but no %s", k.dir, path)
		}
		return
	}
	var cases actionTests
	if err := yaml.UnmarshalStrict([]byte(raw), &cases); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(cases.DiscoveryTests) == 0 || len(cases.ActionTests) == 0 {
		t.Fatalf("%s needs discoveryTests and actionTests", path)
	}
	tested := map[string]bool{}
	for _, tc := range cases.DiscoveryTests {
		for _, mode := range libModes {
			t.Run(filepath.Join(k.group, k.kind, "discovery", tc.InputPath, mode.name), func(t *testing.T) {
				got, err := runDiscovery(vm{openLibs: mode.openLibs}, object(t, filepath.Join(k.dir, "actions", tc.InputPath)), s.discovery)
				if err != nil {
					t.Fatal(err)
				}
				// Argo CD checks that each discovered action is listed; this
				// also checks that each listed action is discovered.
				want := map[string]resourceAction{}
				for _, a := range tc.Result {
					want[a.Name] = a
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("discovered actions (-want +got):\n%s", diff)
				}
				for name := range got {
					if _, ok := s.actions[name]; !ok {
						t.Errorf("discovery.lua offers %s, which has no actions/%s/action.lua", name, name)
					}
				}
			})
		}
	}
	for _, tc := range cases.ActionTests {
		tested[tc.Action] = true
		t.Run(filepath.Join(k.group, k.kind, "actions", tc.Action, tc.InputPath), func(t *testing.T) {
			script, ok := s.actions[tc.Action]
			if !ok {
				t.Fatalf("no actions/%s/action.lua", tc.Action)
			}
			in := object(t, filepath.Join(k.dir, "actions", tc.InputPath))
			start := time.Now()
			got, err := runAction(vm{}, in, script, tc.Parameters)
			end := time.Now()
			if tc.ExpectedErrorMessage != "" {
				if err == nil || err.Error() != tc.ExpectedErrorMessage {
					t.Fatalf("want the error %q, got %v", tc.ExpectedErrorMessage, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// An action that returns the object patches it: it must still
			// be the same object.
			for _, f := range [][]string{{"apiVersion"}, {"kind"}, {"metadata", "name"}, {"metadata", "namespace"}} {
				if a, b := field(in, f...), field(got, f...); a != b {
					t.Errorf("%s changed from %v to %v", strings.Join(f, "."), a, b)
				}
			}
			if err := normalize(k, got, start, end); err != nil {
				t.Fatal(err)
			}
			want, err := normalizeJSON(object(t, filepath.Join(k.dir, "actions", tc.ExpectedOutputPath)))
			if err != nil {
				t.Fatal(err)
			}
			gotJSON, err := normalizeJSON(got)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, gotJSON); diff != "" {
				t.Errorf("%s: output differs from %s (-want +got):\n%s", tc.Action, tc.ExpectedOutputPath, diff)
			}
		})
	}
	for name := range s.actions {
		if !tested[name] {
			t.Errorf("%s: action %s has no actionTests", k.dir, name)
		}
	}
}

// runDiscovery is Argo CD's ExecuteResourceActionDiscovery for one script.
func runDiscovery(v vm, obj map[string]any, script string) (map[string]resourceAction, error) {
	ret, err := v.run(obj, script, nil)
	if err != nil {
		return nil, err
	}
	out := map[string]resourceAction{}
	switch ret := ret.(type) {
	case []any:
		if len(ret) == 0 { // an empty table: no actions
			return out, nil
		}
		return nil, errors.New("discovery.lua returned an array, not a table of actions")
	case map[string]any:
		for name, def := range ret {
			a := resourceAction{}
			if m, ok := def.(map[string]any); ok {
				if err := remarshal(m, &a); err != nil {
					return nil, fmt.Errorf("action %s: %w", name, err)
				}
			}
			a.Name = name
			out[name] = a
		}
		return out, nil
	}
	return nil, fmt.Errorf("expect table output from Lua script, not %T", ret)
}

// runAction is Argo CD's ExecuteResourceAction for an action that returns
// the modified object (a patch of it).
func runAction(v vm, obj map[string]any, script string, params map[string]string) (map[string]any, error) {
	in, err := normalizeJSON(obj)
	if err != nil {
		return nil, err
	}
	ret, err := v.run(in.(map[string]any), script, params)
	if err != nil {
		return nil, err
	}
	out, ok := ret.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("expect the object from action.lua, not %T (only actions that return the object are supported here)", ret)
	}
	return cleanReturned(out, in.(map[string]any)), nil
}

func field(obj map[string]any, path ...string) any {
	var v any = obj
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// requestedAt is the annotation the reconcile action writes.
const requestedAt = "reconcile.fluxcd.io/requestedAt"

// normalize replaces what an action sets to the current time by the fixed
// time the expected outputs hold, as the normalizer of Argo CD's
// custom_actions_test.go does for its kinds — after checking that it is the
// current time, as an RFC 3339 UTC timestamp, between start and end.
func normalize(k kindDir, obj map[string]any, start, end time.Time) error {
	if k.group != "elements.cloud-elements.io" || k.kind != "HubSpotInstance" {
		return nil
	}
	annotations, _ := field(obj, "metadata", "annotations").(map[string]any)
	value, ok := annotations[requestedAt].(string)
	if !ok {
		return fmt.Errorf("no %s annotation in %v", requestedAt, annotations)
	}
	at, err := time.Parse(time.RFC3339, value)
	if err != nil || !strings.HasSuffix(value, "Z") {
		return fmt.Errorf("%s=%q is not an RFC 3339 UTC time (%w)", requestedAt, value, err)
	}
	if at.Before(start.Truncate(time.Second)) || at.After(end) {
		return fmt.Errorf("%s=%q is not the time the action ran (%s to %s)", requestedAt, value, start.UTC().Format(time.RFC3339Nano), end.UTC().Format(time.RFC3339Nano))
	}
	annotations[requestedAt] = "0001-01-01T00:00:00Z"
	return nil
}

// TestSafeOSDate: os.date as the reconcile action calls it gives RFC 3339
// in UTC, whatever the local zone.
func TestSafeOSDate(t *testing.T) {
	at := time.Date(2026, 11, 28, 10, 4, 5, 0, time.FixedZone("CET", 3600))
	got, err := vm{now: func() time.Time { return at }}.run(nil, `local os = require("os"); return os.date("!%Y-%m-%dT%XZ")`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got != "2026-11-28T09:04:05Z" {
		t.Errorf("os.date = %v", got)
	}
	if _, err := (vm{}).run(nil, `local os = require("os"); return os.exit(1)`, nil); err == nil {
		t.Error("os.exit is callable; Argo CD's os library has only time and date")
	}
}

// --- argocd-cm ---

// configMap renders every kind's scripts as argocd-cm keys.
func configMap(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("# Code generated by `go test ./hack/argocd -update` from hack/argocd/" + customizations + "/. DO NOT EDIT.\n" +
		"# The HubSpotInstance health check and resource actions as argocd-cm keys:\n" +
		"#   kubectl -n argocd patch configmap argocd-cm --type merge --patch-file hack/argocd/" + configMapFile + "\n" +
		"# or list this file under `patches:` of the kustomization that installs Argo CD.\n" +
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\ndata:\n")
	for _, k := range kindDirs(t) {
		s := filesOf(t, k)
		if s.health != "" {
			b.WriteString("  resource.customizations.health." + k.key() + ": |\n" + indent(s.health, "    "))
		}
		if s.discovery == "" {
			continue
		}
		var a strings.Builder
		a.WriteString("discovery.lua: |\n" + indent(s.discovery, "  ") + "definitions:\n")
		for _, name := range sortedKeys(s.actions) {
			a.WriteString("- name: " + name + "\n  action.lua: |\n" + indent(s.actions[name], "    "))
		}
		b.WriteString("  resource.customizations.actions." + k.key() + ": |\n" + indent(a.String(), "    "))
	}
	return b.String()
}

// indent prefixes every non-empty line; text must end with a newline.
func indent(text, prefix string) string {
	lines := strings.SplitAfter(text, "\n")
	var b strings.Builder
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			b.WriteString(prefix)
		}
		b.WriteString(l)
	}
	if !strings.HasSuffix(text, "\n") {
		b.WriteString("\n")
	}
	return b.String()
}

// fromConfigMap reads the scripts back from argocd-cm keys, as Argo CD
// parses resource.customizations.{health,actions}.<group_kind>.
func fromConfigMap(t *testing.T, text string, k kindDir) scripts {
	t.Helper()
	var cm struct {
		Data map[string]string `json:"data"`
	}
	if err := yaml.Unmarshal([]byte(text), &cm); err != nil {
		t.Fatal(err)
	}
	s := scripts{health: cm.Data["resource.customizations.health."+k.key()], actions: map[string]string{}}
	if raw := cm.Data["resource.customizations.actions."+k.key()]; raw != "" {
		var actions struct {
			DiscoveryLua        string `json:"discovery.lua"`
			MergeBuiltinActions bool   `json:"mergeBuiltinActions"`
			Definitions         []struct {
				Name      string `json:"name"`
				ActionLua string `json:"action.lua"`
			} `json:"definitions"`
		}
		if err := yaml.UnmarshalStrict([]byte(raw), &actions); err != nil {
			t.Fatal(err)
		}
		s.discovery = actions.DiscoveryLua
		for _, d := range actions.Definitions {
			s.actions[d.Name] = d.ActionLua
		}
	}
	return s
}

// TestArgoCDConfigMap: argocd-cm.yaml holds every script of
// resource_customizations/ under its argocd-cm key, and the scripts read back
// from it pass the same tests.
func TestArgoCDConfigMap(t *testing.T) {
	want := configMap(t)
	if *update {
		if err := os.WriteFile(configMapFile, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := readOptional(t, configMapFile)
	if got != want {
		t.Fatalf("%s is out of date with %s/: run go test ./hack/argocd -update\n%s", configMapFile, customizations, cmp.Diff(got, want))
	}
	for _, k := range kindDirs(t) {
		s := fromConfigMap(t, got, k)
		if diff := cmp.Diff(filesOf(t, k), s, cmp.AllowUnexported(scripts{})); diff != "" {
			t.Fatalf("the scripts read back from %s differ (-files +argocd-cm):\n%s", configMapFile, diff)
		}
		testHealth(t, k, s)
		testActions(t, k, s)
	}
}
