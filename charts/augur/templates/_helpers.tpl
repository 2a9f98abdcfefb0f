{{/* The release's full name: the release name, with "-augur" unless it already says augur. */}}
{{- define "augur.fullname" -}}
{{- if contains "augur" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-augur" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "augur.selectorLabels" -}}
app.kubernetes.io/name: augur
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "augur.labels" -}}
{{ include "augur.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "augur.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "augur.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "augur.tokenSecret" -}}
{{- if .Values.token.existingSecret -}}
{{- .Values.token.existingSecret -}}
{{- else if .Values.token.create -}}
{{- printf "%s-token" (include "augur.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "augur.gatesConfigMap" -}}
{{- printf "%s-gates" (include "augur.fullname" .) -}}
{{- end -}}

{{- define "augur.scheme" -}}
{{- if .Values.tls.secretName -}}HTTPS{{- else -}}HTTP{{- end -}}
{{- end -}}

{{- define "augur.readRules" -}}
# Canaries a webhook call names, and the MetricTemplates their metrics
# reference: read one by name on every call (no cache, so no list or watch).
- apiGroups: ["flagger.app"]
  resources: ["canaries", "metrictemplates"]
  verbs: ["get"]
# Secrets a MetricTemplate's provider.secretRef names (Prometheus credentials),
# read by name on every call: get only, never list or watch.
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get"]
  {{- with .Values.rbac.secretNames }}
  resourceNames:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- if .Values.rbac.events }}
# Events recorded on Canaries (augur analyze --emit-events).
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
{{- end }}
{{- if .Values.providers.keptn }}
# keptn MetricTemplates: read a KeptnMetric's status.value by name; run a
# Keptn Analysis (create it under a generated name, poll it, delete it).
- apiGroups: ["metrics.keptn.sh"]
  resources: ["keptnmetrics"]
  verbs: ["get"]
- apiGroups: ["metrics.keptn.sh"]
  resources: ["analyses"]
  verbs: ["create", "get", "delete"]
{{- end }}
{{- if .Values.providers.externalMetrics }}
# externalmetrics MetricTemplates: GET .../namespaces/NS/METRIC of the
# external metrics API, which the API server authorizes as list of METRIC.
- apiGroups: ["external.metrics.k8s.io"]
  resources: ["*"]
  verbs: ["list"]
{{- end }}
{{- end }}
