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

package controllers

import (
	"context"
	"sync"

	"golang.org/x/sync/singleflight"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// inputSecrets keeps the data of the Secrets that objects reference, each
// under the resourceVersion it was read at. The manager already watches
// Secrets as metadata only, so it knows a Secret's current resourceVersion
// without a request: a Secret that did not change is not read from the API
// server again, and a credentials Secret shared by a thousand objects is read
// once, not a thousand times. Only referenced Secrets are held, never
// anybody else's, and large ones not at all.
type inputSecrets struct {
	mu      sync.Mutex
	secrets map[types.NamespacedName]inputSecret
	// reads lets reconciles that miss on the same Secret at once share one
	// read, as they do right after it changes.
	reads singleflight.Group
}

type inputSecret struct {
	version string
	data    map[string][]byte
}

const (
	// maxHeldSecretBytes: a referenced Secret bigger than this is read
	// every time instead of held; credentials are far smaller.
	maxHeldSecretBytes = 16 << 10
	// maxHeldSecrets bounds what deleted objects can leave behind.
	maxHeldSecrets = 100_000
)

func newInputSecrets() *inputSecrets {
	return &inputSecrets{secrets: map[types.NamespacedName]inputSecret{}}
}

func (h *inputSecrets) lookup(key types.NamespacedName, version string) (map[string][]byte, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	held, ok := h.secrets[key]
	if !ok || held.version != version {
		return nil, false
	}
	return held.data, true
}

func (h *inputSecrets) store(key types.NamespacedName, sec *corev1.Secret) {
	size := 0
	for _, v := range sec.Data {
		size += len(v)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if size > maxHeldSecretBytes {
		delete(h.secrets, key)
		return
	}
	if len(h.secrets) >= maxHeldSecrets {
		clear(h.secrets)
	}
	h.secrets[key] = inputSecret{version: sec.ResourceVersion, data: sec.Data}
}

// advance moves a held Secret from version from to version to, after a
// write of ours that changed its metadata only.
func (h *inputSecrets) advance(key types.NamespacedName, from, to string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if held, ok := h.secrets[key]; ok && held.version == from {
		held.version = to
		h.secrets[key] = held
	}
}

// inputReader reads referenced Secrets: from what inputSecrets holds when
// the metadata cache shows the same resourceVersion, else from the API
// server (which also settles a Secret the cache has not seen yet).
type inputReader struct {
	cache  client.Reader // the manager's cache, Secrets as metadata
	api    client.Reader
	secret *inputSecrets
}

func (r inputReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	sec, isSecret := obj.(*corev1.Secret)
	if !isSecret {
		return r.api.Get(ctx, key, obj, opts...)
	}
	meta := &metav1.PartialObjectMetadata{}
	meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	if err := r.cache.Get(ctx, key, meta); err == nil {
		if data, ok := r.secret.lookup(key, meta.ResourceVersion); ok {
			sec.ObjectMeta = meta.ObjectMeta
			sec.Data = data
			return nil
		}
	}
	// Only callers that saw the same version share a read: one woken by a
	// rotation must not be handed a read that began before it.
	read, err, _ := r.secret.reads.Do(key.String()+"@"+meta.ResourceVersion, func() (any, error) {
		fresh := &corev1.Secret{}
		if err := r.api.Get(ctx, key, fresh, opts...); err != nil {
			return nil, err
		}
		r.secret.store(key, fresh)
		return fresh, nil
	})
	if err != nil {
		return err
	}
	read.(*corev1.Secret).DeepCopyInto(sec)
	return nil
}

func (r inputReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	return r.api.List(ctx, list, opts...)
}
