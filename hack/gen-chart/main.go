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
