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
{{- if and .Values.spool.existingClaim (gt (int .Values.replicaCount) 1) }}
{{- fail "spool.existingClaim is one volume and a spool belongs to one server: with replicaCount above 1 leave it empty (emptyDir per pod)" }}
{{- end }}
{{- if .Values.config.cluster }}
{{- fail "set cluster.lease and cluster.drainTimeout, not config.cluster (node_id and advertise_url come from the pod)" }}
{{- end }}
{{- if not (regexMatch "^[0-9]+(ms|s|m|h)$" (toString .Values.cluster.lease)) }}
{{- fail "cluster.lease must be a duration such as 5s" }}
{{- end }}
{{- $_ := include "televisit.drainSeconds" . }}
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

{{/* cluster.drainTimeout in whole seconds: 90s, 10m, 1h, or a plain number
of seconds; anything else fails the render. */}}
{{- define "televisit.drainSeconds" -}}
{{- $d := toString .Values.cluster.drainTimeout }}
{{- if not (regexMatch "^[0-9]+(s|m|h)?$" $d) }}
{{- fail "cluster.drainTimeout must be whole seconds, minutes or hours, e.g. 90s, 10m or 1h" }}
{{- end }}
{{- $n := int (regexFind "^[0-9]+" $d) }}
{{- if hasSuffix "h" $d }}{{ $n = mul $n 3600 }}{{ else if hasSuffix "m" $d }}{{ $n = mul $n 60 }}{{ end }}
{{- if or (lt $n 1) (gt $n 86400) }}
{{- fail "cluster.drainTimeout must be 1s to 24h (0 would mean televisit's default, 10m)" }}
{{- end }}
{{- $n }}
{{- end }}

{{/* The pod's config: .Values.config with the cluster section from
.Values.cluster. */}}
{{- define "televisit.config" -}}
{{- $cfg := deepCopy .Values.config }}
{{- $cl := dict "lease" (toString .Values.cluster.lease) "drain_timeout" (printf "%ss" (include "televisit.drainSeconds" .)) }}
{{- if .Values.cluster.caFile }}{{- $_ := set $cl "ca_file" (toString .Values.cluster.caFile) }}{{- end }}
{{- $_ := set $cfg "cluster" $cl }}
{{- toYaml $cfg }}
{{- end }}
