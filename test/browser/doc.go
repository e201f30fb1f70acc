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

// Package browser holds the end-to-end test of the OAuth 2 consent in a real
// browser: a person reads the consent link of a HubSpotInstance, opens it in
// headless Chromium (driven through the DevTools protocol by chromedp), clicks
// "Allow" on the simulated HubSpot consent page, and lands on the operator's
// callback page, against kube-apiserver and etcd (envtest), the manager as
// main.go builds it (internal/operator, with its OAuth callback server) and
// the Cloud Elements simulator, all over real HTTP on loopback.
//
// The suite finds a browser on PATH (chromium, chromium-browser,
// google-chrome, …) or at $CHROMIUM_PATH. With none, it skips and says so,
// unless REQUIRE_BROWSER=1 (set by .ci/run), which makes a missing browser a
// failure. Screenshots of the consent and the callback page go to
// $BROWSER_ARTIFACTS_DIR, or test/browser/artifacts (git-ignored).
package browser
