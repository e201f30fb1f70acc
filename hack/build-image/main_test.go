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
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestDockerfileAgrees: the Dockerfile's final stage sets the user, the
// entrypoint and the labels this builder sets (the Dockerfile leaves
// org.opencontainers.image.created to the engine).
func TestDockerfileAgrees(t *testing.T) {
	raw, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(raw), "\\\n", " ")
	final := text[strings.LastIndex(text, "\nFROM "):]
	if !strings.Contains(final, "\nUSER "+User+"\n") {
		t.Errorf("the Dockerfile's final stage does not say USER %s", User)
	}
	if !strings.Contains(final, `ENTRYPOINT ["`+Entrypoint+`"]`) {
		t.Errorf("the Dockerfile's final stage does not say ENTRYPOINT [%q]", Entrypoint)
	}
	got := map[string]string{}
	for _, m := range regexp.MustCompile(`(org\.opencontainers\.image\.[a-z]+)="([^"]*)"`).FindAllStringSubmatch(final, -1) {
		got[m[1]] = m[2]
	}
	want := Labels(Options{Source: DefaultSource, Version: "${VERSION}", Revision: "${REVISION}", Created: time.Unix(0, 0)})
	delete(want, "org.opencontainers.image.created")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the Dockerfile's labels differ from hack/build-image's (-build-image +Dockerfile):\n%s", diff)
	}
}

func TestCreatedTime(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	if got, err := createdTime(""); err != nil || !got.Equal(time.Unix(0, 0)) {
		t.Errorf("default: %v %v", got, err)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "1764000000")
	if got, err := createdTime(""); err != nil || got.Unix() != 1764000000 {
		t.Errorf("SOURCE_DATE_EPOCH: %v %v", got, err)
	}
	if got, err := createdTime("2026-11-29T19:00:00+01:00"); err != nil || got.Unix() != time.Date(2026, 11, 29, 18, 0, 0, 0, time.UTC).Unix() {
		t.Errorf("flag: %v %v", got, err)
	}
}
