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

package callback

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"

	"k8s.io/apimachinery/pkg/types"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

// page is what the person who just consented (or not) sees. Every field is
// rendered through html/template, so nothing from the request can become
// markup; the code itself is never part of it.
type page struct {
	Status  int
	OK      bool
	Title   string
	Message string
	// Detail is the provider's own words (error and error_description).
	Detail string
	// Object is the HubSpotInstance the page is about, when the state was
	// authentic; a forged state names nothing worth showing.
	Object *types.NamespacedName
	Hint   string
	// OfferRetry shows how to ask for a fresh authorization link.
	OfferRetry bool
}

// Commands are what to type next to follow the object.
func (p page) Commands() []string {
	if p.Object == nil {
		return nil
	}
	target := "hsi -n " + p.Object.Namespace + " " + p.Object.Name
	return []string{"kubectl get " + target, "kubectl describe " + target}
}

// RetryCommand asks the operator for a fresh authorization link.
func (p page) RetryCommand() string {
	if p.Object == nil {
		return ""
	}
	return "kubectl annotate hsi -n " + p.Object.Namespace + " " + p.Object.Name + " " +
		elementsv1alpha1.ReconcileRequestAnnotation + `="$(date -u +%Y-%m-%dT%H:%M:%SZ)" --overwrite`
}

// The page is self-contained: inline style only, no script, no image, no
// font, so that the Content-Security-Policy can forbid everything else.
var pageTemplate = template.Must(template.New("callback").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}} · hubspot-operator</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#1f2328;background:#fff}
h1{font-size:1.4rem;margin-bottom:.5rem}
.ok h1{color:#1a7f37}
.refused h1{color:#cf222e}
pre{background:#f6f8fa;padding:.75rem 1rem;border-radius:6px;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
.detail{border-left:3px solid #d0d7de;padding-left:.75rem;color:#59636e;word-break:break-word}
footer{margin-top:2rem;color:#59636e;font-size:.85rem}
</style>
</head>
<body class="{{if .OK}}ok{{else}}refused{{end}}">
<main>
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
{{- with .Detail}}
<p class="detail">{{.}}</p>
{{- end}}
{{- with .Object}}
<p>HubSpotInstance <code>{{.Namespace}}/{{.Name}}</code>. Follow it with:</p>
<pre>{{range $.Commands}}{{.}}
{{end}}</pre>
{{- end}}
{{- with .Hint}}
<p>{{.}}</p>
{{- end}}
{{- if and .OfferRetry .Object}}
<p>To get a fresh authorization link (the HubSpotInstance's Ready condition then says where to find it):</p>
<pre>{{.RetryCommand}}</pre>
{{- end}}
</main>
<footer>hubspot-operator OAuth callback · HTTP {{.Status}}</footer>
</body>
</html>
`))

// securityHeaders make the page inert wherever it is opened: not cached
// (it answers a one-time link), not sniffed, not framed, and it leaks no
// Referer (the address holds the code and the state).
var securityHeaders = map[string]string{
	"Cache-Control":           "no-store",
	"Pragma":                  "no-cache",
	"X-Content-Type-Options":  "nosniff",
	"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
	"Referrer-Policy":         "no-referrer",
	"X-Frame-Options":         "DENY",
}

// allowedMethods is the Allow header of a 405.
const allowedMethods = "GET, HEAD"

func writePage(w http.ResponseWriter, p page) {
	var body bytes.Buffer
	if err := pageTemplate.Execute(&body, p); err != nil {
		// The template is fixed and its data plain strings: this cannot
		// happen, but a half-written page would be worse than a bare one.
		body.Reset()
		body.WriteString("<!doctype html><title>hubspot-operator</title><p>" + strconv.Itoa(p.Status) + " " + http.StatusText(p.Status) + "</p>")
	}
	h := w.Header()
	for name, value := range securityHeaders {
		h.Set(name, value)
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(body.Len()))
	if p.Status == http.StatusMethodNotAllowed {
		h.Set("Allow", allowedMethods)
	}
	w.WriteHeader(p.Status)
	_, _ = w.Write(body.Bytes())
}
