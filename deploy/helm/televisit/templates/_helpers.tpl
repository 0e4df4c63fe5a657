{{/* Chart name, truncated to DNS label length. */}}
{{- define "televisit.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name. */}}
{{- define "televisit.fullname" -}}
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

{{- define "televisit.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "televisit.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "televisit.selectorLabels" -}}
app.kubernetes.io/name: {{ include "televisit.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "televisit.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "televisit.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding the secret files. */}}
{{- define "televisit.secretName" -}}
{{- if .Values.secrets.create }}
{{- printf "%s-secrets" (include "televisit.fullname" .) }}
{{- else }}
{{- required "secrets.existingSecret is required when secrets.create is false" .Values.secrets.existingSecret }}
{{- end }}
{{- end }}

{{/* The image reference; refuses "latest". */}}
{{- define "televisit.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if eq $tag "latest" }}
{{- fail "image.tag must name a version, not latest" }}
{{- end }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}

{{/* Checks on combinations of values that cannot work. */}}
{{- define "televisit.validate" -}}
{{- $mode := .Values.media.mode }}
{{- if not (has $mode (list "hostNetwork" "loadBalancer" "nodePort")) }}
{{- fail "media.mode must be hostNetwork, loadBalancer or nodePort" }}
{{- end }}
{{- if and (ne $mode "hostNetwork") (gt (int .Values.replicaCount) 1) }}
{{- fail "media.mode loadBalancer and nodePort send a port's media to any pod: they need replicaCount 1 (use hostNetwork for more)" }}
{{- end }}
{{- if not (hasSuffix ":8443" (toString .Values.config.server.addr)) }}
{{- fail "config.server.addr must listen on port 8443 (the chart's container port), e.g. \":8443\"" }}
{{- end }}
{{- $udp := int .Values.config.media.udp_port }}
{{- if or (lt $udp 1) (gt $udp 65535) }}
{{- fail "config.media.udp_port must be 1-65535 (0, a random port, cannot be opened in a firewall)" }}
{{- end }}
{{- if and (eq $mode "nodePort") (or (lt $udp 30000) (gt $udp 32767)) }}
{{- fail "media.mode nodePort needs config.media.udp_port in the NodePort range 30000-32767" }}
{{- end }}
{{- end }}
