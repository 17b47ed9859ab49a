#!/bin/bash
# preStop hook of the example HiveMQ brokers: let mqtt-xds drain this broker before
# HiveMQ stops, so its clients reconnect to the other brokers instead of back to this one.
#
# When the pod starts terminating, its EndpointSlice entry turns "terminating" at once and
# mqtt-xds publishes the broker as DRAINING: Envoy sends it no new connection. This hook
# then:
#   1. asks the control plane to drain the broker actively: POST /drain/<pod>;
#   2. if the control plane accepts (2xx), polls GET /drain/<pod> until the answer says
#      {"drained": true}, or DRAIN_TIMEOUT_SECONDS pass;
#   3. if the drain API refuses (no token, an old control plane without the API) or the
#      control plane is unreachable,
#      waits DRAIN_FALLBACK_SECONDS, long enough for the DRAINING push to reach every
#      Envoy, so the clients HiveMQ disconnects on shutdown do not come straight back.
# The hook always exits 0 within DRAIN_TIMEOUT_SECONDS (the pod's
# terminationGracePeriodSeconds leaves HiveMQ time to shut down after it); a failing hook
# would only add a noisy Event.
#
# Uses curl when the image has it, and bash's /dev/tcp otherwise.
set -u

POD_NAME="${POD_NAME:?POD_NAME must be set (downward API)}"
DRAIN_URL="${DRAIN_URL:-http://mqtt-xds-metrics:9090}"
DRAIN_TIMEOUT_SECONDS="${DRAIN_TIMEOUT_SECONDS:-90}"
DRAIN_FALLBACK_SECONDS="${DRAIN_FALLBACK_SECONDS:-15}"
DRAIN_POLL_SECONDS="${DRAIN_POLL_SECONDS:-2}"
DRAIN_HTTP_CLIENT="${DRAIN_HTTP_CLIENT:-auto}"   # auto | curl | devtcp (for tests)
DRAIN_TOKEN_FILE="${DRAIN_TOKEN_FILE:-}"         # the control plane's admin token, if set

# preStop output is not in the container log; PID 1's stdout is.
if [[ -z "${DRAIN_LOG_TO:-}" && -w /proc/1/fd/1 ]]; then DRAIN_LOG_TO=/proc/1/fd/1; fi
log() {
  local line
  line="$(printf '{"time":"%s","component":"drain-hook","pod":"%s","msg":"%s"}' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${POD_NAME}" "$*")"
  # A target that cannot be opened (e.g. a socket) falls back to stderr.
  { echo "${line}" >>"${DRAIN_LOG_TO:-/dev/stderr}"; } 2>/dev/null || echo "${line}" >&2
}

deadline=$((SECONDS + DRAIN_TIMEOUT_SECONDS))
remaining() { local r=$((deadline - SECONDS)); ((r > 0)) && echo "${r}" || echo 0; }

# The bearer token for POST /drain (the control plane refuses mutating requests without it).
auth=""
if [[ -n "${DRAIN_TOKEN_FILE}" && -r "${DRAIN_TOKEN_FILE}" ]]; then
  auth="$(tr -d '\r\n' <"${DRAIN_TOKEN_FILE}")"
fi

if [[ "${DRAIN_HTTP_CLIENT}" == auto ]]; then
  if command -v curl >/dev/null 2>&1; then DRAIN_HTTP_CLIENT=curl; else DRAIN_HTTP_CLIENT=devtcp; fi
fi

# request METHOD PATH: prints "STATUS BODY" ("000 " when the request failed).
request() {
  local method="$1" path="$2" max=3
  if [[ "${DRAIN_HTTP_CLIENT}" == curl ]]; then
    local out
    local headers=()
    [[ -n "${auth}" ]] && headers=(-H "Authorization: Bearer ${auth}")
    out="$(curl -sS -X "${method}" "${headers[@]}" --max-time "${max}" -o - -w '\n%{http_code}' "${DRAIN_URL}${path}" 2>/dev/null)" || { echo "000 "; return; }
    echo "${out##*$'\n'} ${out%$'\n'*}"
    return
  fi
  local rest="${DRAIN_URL#http://}" hostport host port
  hostport="${rest%%/*}"
  host="${hostport%%:*}"
  port="${hostport##*:}"
  [[ "${port}" == "${hostport}" ]] && port=80
  local raw
  # shellcheck disable=SC2016 # the inner script expands its own positional arguments
  raw="$(timeout "${max}" bash -c '
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    printf "%s %s HTTP/1.0\r\nHost: %s\r\nContent-Length: 0\r\nConnection: close\r\n%s\r\n" "$3" "$4" "$1" "${5:+Authorization: Bearer $5$'"'"'\r\n'"'"'}" >&3
    cat <&3' _ "${host}" "${port}" "${method}" "${path}" "${auth}" 2>/dev/null)" || { echo "000 "; return; }
  local status_line="${raw%%$'\r'*}" body="${raw#*$'\r\n\r\n'}"
  local status="${status_line#* }"
  status="${status%% *}"
  [[ "${status}" =~ ^[0-9]{3}$ ]] || status=000
  echo "${status} ${body}"
}

fallback() {
  local wait="${DRAIN_FALLBACK_SECONDS}" r
  r="$(remaining)"
  ((wait > r)) && wait="${r}"
  log "$1; waiting ${wait}s for Envoy to stop sending new clients"
  sleep "${wait}"
  exit 0
}

reply="$(request POST "/drain/${POD_NAME}")"
status="${reply%% *}"
case "${status}" in
  2??) log "drain requested at ${DRAIN_URL}" ;;
  000) fallback "control plane unreachable at ${DRAIN_URL}" ;;
  *) fallback "drain API not available (HTTP ${status})" ;;
esac

while (($(remaining) > 0)); do
  reply="$(request GET "/drain/${POD_NAME}")"
  status="${reply%% *}"
  body="${reply#* }"
  if [[ "${status}" == 200 && "${body}" =~ \"drained\"[[:space:]]*:[[:space:]]*true ]]; then
    log "drained"
    exit 0
  fi
  sleep "${DRAIN_POLL_SECONDS}"
done
log "drain not finished after ${DRAIN_TIMEOUT_SECONDS}s; stopping anyway"
exit 0
