{{/* Names, labels and shared fragments. */}}

{{- define "mqtt-xds.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release name when it already contains the chart name (release "mqtt-xds" gives the Kustomize names). */}}
{{- define "mqtt-xds.fullname" -}}
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

{{- define "mqtt-xds.envoyName" -}}
{{- printf "%s-envoy" (include "mqtt-xds.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mqtt-xds.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The Kubernetes recommended labels every object carries; selectors use mqtt-xds.selectorLabels. */}}
{{- define "mqtt-xds.labels" -}}
helm.sh/chart: {{ include "mqtt-xds.chart" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: mqtt-xds
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of the control plane. */}}
{{- define "mqtt-xds.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mqtt-xds.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: control-plane
{{- end }}

{{/* Selector labels of the Envoy edge. */}}
{{- define "mqtt-xds.envoySelectorLabels" -}}
app.kubernetes.io/name: mqtt-envoy
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: edge
{{- end }}

{{- define "mqtt-xds.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "mqtt-xds.adminTokenSecret" -}}
{{- default (printf "%s-admin-token" (include "mqtt-xds.fullname" .)) .Values.adminToken.existingSecret }}
{{- end }}

{{- define "mqtt-xds.agentTokenSecret" -}}
{{- default (printf "%s-agent-token" (include "mqtt-xds.fullname" .)) .Values.agentToken.existingSecret }}
{{- end }}

{{- define "mqtt-xds.brokerNamespace" -}}
{{- default .Release.Namespace .Values.discovery.namespace }}
{{- end }}

{{/* The container security context every container here runs with (the "restricted" Pod Security Standard). */}}
{{- define "mqtt-xds.containerSecurity" -}}
runAsNonRoot: true
runAsUser: {{ .uid }}
runAsGroup: {{ .uid }}
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
The Envoy sidecar as a native sidecar (an init container with restartPolicy: Always):
it starts, and receives its listener from mqtt-xds, before the application starts, and
stops after it. Add it to an application's initContainers, with the volume below.
*/}}
{{- define "mqtt-xds.sidecarContainer" -}}
- name: envoy
  image: {{ printf "%s:%s" .Values.sidecar.image.repository .Values.sidecar.image.tag }}
  imagePullPolicy: {{ .Values.sidecar.image.pullPolicy }}
  restartPolicy: Always
  command: ["/usr/local/bin/envoy"]
  args:
    - --config-path
    - /etc/envoy/bootstrap.yaml
    - --service-node
    - $(ENVOY_POD_NAME)
    - --service-cluster
    - mqtt-sidecar
    - --concurrency
    - "1"
    - --disable-hot-restart
    - --log-level
    - {{ .Values.sidecar.logLevel }}
  env:
    - name: ENVOY_POD_NAME
      valueFrom:
        fieldRef:
          fieldPath: metadata.name
  ports:
    - name: http-envoy-ops
      containerPort: 9902
      protocol: TCP
  # The application's containers start only once Envoy has its MQTT listener.
  startupProbe:
    httpGet:
      path: /ready
      port: 9902
    periodSeconds: 2
    failureThreshold: 150
  readinessProbe:
    httpGet:
      path: /ready
      port: 9902
    periodSeconds: 10
    timeoutSeconds: 2
  resources:
    requests:
      cpu: 50m
      memory: 64Mi
    limits:
      memory: 256Mi
  securityContext:
    {{- include "mqtt-xds.containerSecurity" (dict "uid" 101) | nindent 4 }}
  volumeMounts:
    - name: mqtt-envoy-bootstrap
      mountPath: /etc/envoy
      readOnly: true
{{- end }}

{{- define "mqtt-xds.sidecarVolume" -}}
- name: mqtt-envoy-bootstrap
  configMap:
    name: {{ include "mqtt-xds.fullname" . }}-envoy-sidecar-bootstrap
{{- end }}
