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

// Command gen-chart generates the Helm chart charts/hubspot-operator and
// config/namespaced/manager-role/role.yaml from config/ (see package
// chartgen). `make chart` runs it from the repository root; the tests in this
// folder fail when the files on disk differ from what it would write.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/hubspot-operator/hubspot-operator/hack/gen-chart/chartgen"
)

func main() {
	root := flag.String("root", ".", "the repository root")
	flag.Parse()
	files, err := chartgen.Generate(*root)
	if err == nil {
		err = chartgen.Write(*root, files)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen-chart:", err)
		os.Exit(1)
	}
}
