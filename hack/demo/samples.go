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

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/callback"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
)

// samplesGlob selects the samples: one HubSpotInstance per auth mode, each
// with the Secrets it references.
const samplesGlob = "config/samples/elements_v1alpha1_hubspotinstance_*.yaml"

// placeholderPrefix marks the samples' Secret values a person must replace.
const placeholderPrefix = "REPLACE-WITH-"

// Bulk objects (--instances) share one API-key Secret.
const (
	bulkPrefix     = "bulk-"
	bulkKeySecret  = "bulk-api-key"
	bulkKeySecretK = "api-key"
)

// loadSamples reads every document of the sample files.
func loadSamples(root string) ([]*unstructured.Unstructured, error) {
	files, err := filepath.Glob(filepath.Join(root, samplesGlob))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no samples match %s", samplesGlob)
	}
	files = kustomizationOrder(filepath.Join(root, filepath.Dir(samplesGlob)), files)
	var objs []*unstructured.Unstructured
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
		for {
			doc, err := reader.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", file, err)
			}
			jsonDoc, err := utilyaml.ToJSON(doc)
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", file, err)
			}
			if len(bytes.TrimSpace(jsonDoc)) == 0 || string(bytes.TrimSpace(jsonDoc)) == "null" {
				continue // an empty document, e.g. after a trailing ---
			}
			u := &unstructured.Unstructured{}
			if err := u.UnmarshalJSON(jsonDoc); err != nil {
				return nil, fmt.Errorf("reading %s: %w", file, err)
			}
			objs = append(objs, u)
		}
	}
	return objs, nil
}

// kustomizationOrder sorts the sample files as config/samples/kustomization.yaml
// lists them (OAuth 2, the recommended mode, first); files it does not list
// follow in name order.
func kustomizationOrder(dir string, files []string) []string {
	sort.Strings(files)
	var k struct {
		Resources []string `json:"resources"`
	}
	raw, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil || yaml.Unmarshal(raw, &k) != nil {
		return files
	}
	rank := map[string]int{}
	for i, resource := range k.Resources {
		rank[filepath.Join(dir, resource)] = i + 1
	}
	sort.SliceStable(files, func(i, j int) bool {
		ri, rj := rank[files[i]], rank[files[j]]
		if ri == 0 || rj == 0 {
			return ri != 0 && rj == 0
		}
		return ri < rj
	})
	return files
}

// plannedObject is one object to apply, with what to say about it.
type plannedObject struct {
	obj  *unstructured.Unstructured
	note string
}

// credentialsRef is a Cloud Elements credentials Secret and its two keys.
type credentialsRef struct {
	name, userKey, organizationKey string
}

// prepareSamples points the samples at the demo: namespace demo, the
// simulator's endpoint and account secrets, the operator's local callback
// URL, and demo values for the placeholders. Secrets come first.
func (d *demo) prepareSamples(objs []*unstructured.Unstructured) (secrets, instances []plannedObject, err error) {
	creds := map[string]credentialsRef{}
	for _, obj := range objs {
		if obj.GetKind() != "HubSpotInstance" {
			continue
		}
		obj.SetNamespace(demoNamespace)
		if err := unstructured.SetNestedField(obj.Object, d.endpoint(), "spec", "platform", "endpoint"); err != nil {
			return nil, nil, err
		}
		if _, found, _ := unstructured.NestedMap(obj.Object, "spec", "auth", "oauth2"); found {
			if err := unstructured.SetNestedField(obj.Object, d.callbackURL(), "spec", "auth", "oauth2", "callbackURL"); err != nil {
				return nil, nil, err
			}
		}
		ref := credentialsRef{
			name:            nestedString(obj, "spec", "platform", "credentialsSecretRef", "name"),
			userKey:         nestedString(obj, "spec", "platform", "credentialsSecretRef", "userSecretKey"),
			organizationKey: nestedString(obj, "spec", "platform", "credentialsSecretRef", "organizationSecretKey"),
		}
		if ref.userKey == "" {
			ref.userKey = "user-secret"
		}
		if ref.organizationKey == "" {
			ref.organizationKey = "organization-secret"
		}
		creds[ref.name] = ref
		if d.credentialsSecret == "" {
			d.credentialsSecret = ref.name
		}
		authType := nestedString(obj, "spec", "auth", "type")
		d.samples = append(d.samples, types.NamespacedName{Namespace: demoNamespace, Name: obj.GetName()})
		instances = append(instances, plannedObject{obj: obj, note: authType})
	}
	if len(instances) == 0 {
		return nil, nil, fmt.Errorf("the samples (%s) hold no HubSpotInstance", samplesGlob)
	}

	for _, obj := range objs {
		if obj.GetKind() != "Secret" || obj.GetAPIVersion() != "v1" {
			if obj.GetKind() != "HubSpotInstance" {
				return nil, nil, fmt.Errorf("unexpected %s %s in the samples", obj.GetKind(), obj.GetName())
			}
			continue
		}
		obj.SetNamespace(demoNamespace)
		data := secretData(obj)
		note := ""
		if ref, ok := creds[obj.GetName()]; ok {
			data[ref.userKey], data[ref.organizationKey] = d.userSecret, d.organizationSecret
			note = "Cloud Elements account: the simulator's random demo secrets"
			delete(creds, obj.GetName())
		}
		if replaced := replacePlaceholders(data); replaced > 0 && note == "" {
			note = "placeholder values replaced with demo values"
		}
		setSecretData(obj, data)
		secrets = append(secrets, plannedObject{obj: obj, note: note})
	}
	// A credentials Secret the samples reference but do not ship.
	for _, ref := range creds {
		obj := newSecret(ref.name, map[string]string{ref.userKey: d.userSecret, ref.organizationKey: d.organizationSecret})
		secrets = append(secrets, plannedObject{obj: obj, note: "Cloud Elements account: the simulator's random demo secrets"})
	}
	return secrets, instances, nil
}

func nestedString(obj *unstructured.Unstructured, fields ...string) string {
	s, _, _ := unstructured.NestedString(obj.Object, fields...)
	return s
}

// secretData merges a Secret's data and stringData into clear-text values.
func secretData(obj *unstructured.Unstructured) map[string]string {
	out := map[string]string{}
	data, _, _ := unstructured.NestedStringMap(obj.Object, "data")
	for key, value := range data {
		if decoded, err := base64.StdEncoding.DecodeString(value); err == nil {
			out[key] = string(decoded)
		}
	}
	stringData, _, _ := unstructured.NestedStringMap(obj.Object, "stringData")
	for key, value := range stringData {
		out[key] = value
	}
	return out
}

// setSecretData writes values as data: server-side apply owns data fields
// cleanly, while stringData is write-only.
func setSecretData(obj *unstructured.Unstructured, values map[string]string) {
	unstructured.RemoveNestedField(obj.Object, "stringData")
	data := make(map[string]any, len(values))
	for key, value := range values {
		data[key] = base64.StdEncoding.EncodeToString([]byte(value))
	}
	obj.Object["data"] = data
}

// replacePlaceholders turns REPLACE-WITH-HUBSPOT-APP-CLIENT-ID into
// demo-hubspot-app-client-id: the simulator accepts any client id or key.
func replacePlaceholders(values map[string]string) int {
	replaced := 0
	for key, value := range values {
		if rest, ok := strings.CutPrefix(value, placeholderPrefix); ok {
			values[key] = "demo-" + strings.ToLower(rest)
			replaced++
		}
	}
	return replaced
}

func newSecret(name string, values map[string]string) *unstructured.Unstructured {
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "Secret",
		"metadata":   map[string]any{"name": name, "namespace": demoNamespace},
		"type":       string(corev1.SecretTypeOpaque),
	}}
	setSecretData(obj, values)
	return obj
}

// bulkObjects are --instances extra API-key objects sharing one Secret.
func (d *demo) bulkObjects() (secret *unstructured.Unstructured, instances []*unstructured.Unstructured) {
	secret = newSecret(bulkKeySecret, map[string]string{bulkKeySecretK: "demo-bulk-hubspot-api-key"})
	for i := 1; i <= d.opts.instances; i++ {
		name := fmt.Sprintf("%s%04d", bulkPrefix, i)
		instances = append(instances, &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": elementsv1alpha1.GroupVersion.String(),
			"kind":       "HubSpotInstance",
			"metadata": map[string]any{
				"name": name, "namespace": demoNamespace,
				"labels": map[string]any{"app.kubernetes.io/part-of": "hubspot-operator-demo"},
			},
			"spec": map[string]any{
				"platform": map[string]any{
					"endpoint":             d.endpoint(),
					"credentialsSecretRef": map[string]any{"name": d.credentialsSecret},
				},
				"tags": []any{"demo-bulk"},
				"auth": map[string]any{
					"type": string(elementsv1alpha1.AuthTypeAPIKey),
					"apiKey": map[string]any{
						"secretRef": map[string]any{"name": bulkKeySecret, "key": bulkKeySecretK},
					},
				},
			},
		}})
		d.bulk = append(d.bulk, types.NamespacedName{Namespace: demoNamespace, Name: name})
	}
	return secret, instances
}

func (d *demo) isBulk(obj *elementsv1alpha1.HubSpotInstance) bool {
	return d.opts.instances > 0 && obj.Namespace == demoNamespace && strings.HasPrefix(obj.Name, bulkPrefix)
}

// apply server-side applies obj as the demo's field manager.
func (d *demo) apply(ctx context.Context, obj *unstructured.Unstructured) error {
	if err := d.client.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj),
		client.FieldOwner(fieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying %s %s/%s: %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
	}
	return nil
}

// ensureNamespace creates a namespace unless it exists.
func (d *demo) ensureNamespace(ctx context.Context, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := d.client.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", name, err)
	}
	return nil
}

func (d *demo) endpoint() string { return d.simURL + simulator.APIPrefix }

func (d *demo) callbackURL() string { return "http://" + d.callbackAddr + callback.Path }
