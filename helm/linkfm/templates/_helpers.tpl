{{/* Names follow the OSC xapp onboarder's chart: service-<ns>-<name>-rmr, configmap-<ns>-<name>-appconfig. */}}

{{- define "linkfm.name" -}}
{{ .Values.descriptor.name }}
{{- end -}}

{{- define "linkfm.prefix" -}}
{{ .Release.Namespace }}-{{ include "linkfm.name" . }}
{{- end -}}

{{- define "linkfm.selectorLabels" -}}
app: {{ include "linkfm.prefix" . }}
release: {{ .Release.Name }}
{{- end -}}

{{- define "linkfm.labels" -}}
{{ include "linkfm.selectorLabels" . }}
app.kubernetes.io/name: {{ include "linkfm.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.descriptor.version | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}

{{/* The port of the descriptor's messaging port called "http" (8080 by convention). */}}
{{- define "linkfm.httpPort" -}}
{{- range .Values.descriptor.messaging.ports -}}
{{- if eq .name "http" }}{{ .port }}{{ end -}}
{{- end -}}
{{- end -}}

{{/*
A Service over the descriptor's ports: kind "rmr" takes every port whose name contains
"rmr", kind "http" the others (as the onboarder splits them). headless: one DNS name per
pod, <pod>.service-<ns>-<name>-<kind>-headless.<ns>, for sharded StatefulSets.
*/}}
{{- define "linkfm.service" -}}
{{- $root := .root -}}
apiVersion: v1
kind: Service
metadata:
  name: service-{{ include "linkfm.prefix" $root }}-{{ .kind }}{{ if .headless }}-headless{{ end }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "linkfm.labels" $root | nindent 4 }}
    linkfm/service: {{ .kind }}{{ if .headless }}-headless{{ end }}
spec:
  {{- if .headless }}
  clusterIP: None
  publishNotReadyAddresses: true
  {{- else }}
  type: ClusterIP
  {{- end }}
  selector:
    {{- include "linkfm.selectorLabels" $root | nindent 4 }}
  ports:
    {{- range $root.Values.descriptor.messaging.ports }}
    {{- if eq (contains "rmr" .name) (eq $.kind "rmr") }}
    - name: {{ .name }}
      port: {{ .port }}
      targetPort: {{ .name }}
      protocol: TCP
    {{- end }}
    {{- end }}
{{- end -}}
