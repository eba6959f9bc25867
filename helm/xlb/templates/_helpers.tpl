{{/* Chart name, at most 63 characters. */}}
{{- define "xlb.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Object name: fullnameOverride, or "<release>-<chart>" unless the
release name already contains the chart name. */}}
{{- define "xlb.fullname" -}}
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

{{- define "xlb.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "xlb.selectorLabels" -}}
app.kubernetes.io/name: {{ include "xlb.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "xlb.labels" -}}
helm.sh/chart: {{ include "xlb.chart" . }}
{{ include "xlb.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: agent
{{- end }}

{{- define "xlb.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "xlb.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "xlb.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}

{{/* xlbd --metrics-address: ADDR:PORT, [IPV6]:PORT. */}}
{{- define "xlb.metricsAddress" -}}
{{- $a := required "metrics.bindAddress is required" .Values.metrics.bindAddress | toString }}
{{- if contains ":" $a }}
{{- printf "[%s]:%d" $a (int .Values.metrics.port) }}
{{- else }}
{{- printf "%s:%d" $a (int .Values.metrics.port) }}
{{- end }}
{{- end }}

{{/* The probes' host: none (the pod IP, which is the node's) when xlbd
binds every address, else the address it binds. */}}
{{- define "xlb.probeHost" -}}
{{- $a := .Values.metrics.bindAddress | toString }}
{{- if not (has $a (list "0.0.0.0" "::")) }}
{{- $a }}
{{- end }}
{{- end }}

{{/* Pin directory: <bpffs.path>/<bpffs.pinSubdir>. */}}
{{- define "xlb.pinDir" -}}
{{- printf "%s/%s" (trimSuffix "/" .Values.bpffs.path) (required "bpffs.pinSubdir is required" .Values.bpffs.pinSubdir) }}
{{- end }}

{{/* xlbd --socket-lb: on, off or host. YAML 1.1 reads an unquoted on or
off as a boolean: true and false are taken for them. */}}
{{- define "xlb.socketLB" -}}
{{- $m := .Values.socketLB }}
{{- if kindIs "bool" $m }}
{{- ternary "on" "off" $m }}
{{- else if has (toString $m) (list "on" "off" "host") }}
{{- toString $m }}
{{- else }}
{{- fail (printf "socketLB: %v: must be on, off or host" $m) }}
{{- end }}
{{- end }}

{{/* Where the pod sees the node's cgroup v2 hierarchy (xlbd --cgroup). */}}
{{- define "xlb.cgroupMount" -}}
/run/xlb/cgroupv2
{{- end }}
