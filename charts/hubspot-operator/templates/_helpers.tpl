{{/*
Hand-written. The generated templates (hack/gen-chart) name every object with
"hubspot-operator.objectName" and label it with "hubspot-operator.labels";
selectors use "hubspot-operator.selectorLabels".
*/}}

{{/*
The chart name, or nameOverride.
*/}}
{{- define "hubspot-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of object names: fullnameOverride, else the release name when it
contains the chart name, else "<release>-<chart name>".
*/}}
{{- define "hubspot-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The name of one object: "<fullname>-<its name in config/ without the
hubspot-operator- prefix>", cut to 63 characters. Called with (list $ "suffix").
*/}}
{{- define "hubspot-operator.objectName" -}}
{{- printf "%s-%s" (include "hubspot-operator.fullname" (index . 0)) (index . 1) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
"name-version" for the helm.sh/chart label.
*/}}
{{- define "hubspot-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every object.
*/}}
{{- define "hubspot-operator.labels" -}}
helm.sh/chart: {{ include "hubspot-operator.chart" . }}
{{ include "hubspot-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Labels that select the operator's pods (with control-plane: controller-manager,
which the generated templates keep from config/).
*/}}
{{- define "hubspot-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "hubspot-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The manager Deployments as a JSON list of shard names: "" for the main one,
then sharding.shards when sharding is on. Fails on names that cannot be both
a label value and the end of a Deployment's name.
*/}}
{{- define "hubspot-operator.shards" -}}
{{- $shards := list "" }}
{{- if .Values.sharding.enabled }}
{{- if not .Values.sharding.shards }}
{{- fail "sharding.enabled needs sharding.shards: the shards' names, e.g. [shard1, shard2]" }}
{{- end }}
{{- range .Values.sharding.shards }}
{{- $shard := toString . }}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" $shard) }}
{{- fail (printf "sharding.shards: %q is not a lowercase DNS label" $shard) }}
{{- end }}
{{- if has $shard $shards }}
{{- fail (printf "sharding.shards: %q is listed twice" $shard) }}
{{- end }}
{{- $shards = append $shards $shard }}
{{- end }}
{{- end }}
{{- toJson $shards }}
{{- end }}

{{/*
"-<shard>" for a shard's objects, nothing for the main Deployment's.
*/}}
{{- define "hubspot-operator.shardSuffix" -}}
{{- with . }}-{{ . }}{{ end }}
{{- end }}
