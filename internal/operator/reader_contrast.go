//go:build benchcontrast

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

package operator

import (
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ContrastBuildTag is the tag of this build; see reader.go.
const ContrastBuildTag = "benchcontrast"

// uncachedReader, in the contrast build, is the caching client: every Secret
// read starts an informer that holds all Secrets' data.
func uncachedReader(mgr ctrl.Manager) client.Reader { return mgr.GetClient() }
