# shellcheck shell=bash
# Shared settings and helpers for scripts/install, scripts/testbed, scripts/test and scripts/demo.
# Everything the testbed runs lives under $TESTBED_DIR; long-lived build output under
# $LEDGERLET_CACHE. Both are outside the git tree and can be overridden from the environment.

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export PATH="/usr/local/go/bin:${PATH}"

TESTBED_DIR="${TESTBED_DIR:-/var/lib/ledgerlet-testbed}"
LEDGERLET_CACHE="${LEDGERLET_CACHE:-/var/cache/ledgerlet}"
TESTBED_NODE_NAME="${TESTBED_NODE_NAME:-ledgerlet-node-1}"
TESTBED_REGISTRY_PORT="${TESTBED_REGISTRY_PORT:-5000}"
TESTBED_APISERVER_PORT="${TESTBED_APISERVER_PORT:-6443}"
TESTBED_ETCD_CLIENT_PORT="${TESTBED_ETCD_CLIENT_PORT:-12379}"
TESTBED_ETCD_PEER_PORT="${TESTBED_ETCD_PEER_PORT:-12380}"
TESTBED_CM_PORT="${TESTBED_CM_PORT:-10257}"
TESTBED_SCHED_PORT="${TESTBED_SCHED_PORT:-10259}"
TESTBED_CNI_SUBNET="${TESTBED_CNI_SUBNET:-10.88.0.0/16}"
TESTBED_CNI_BRIDGE="${TESTBED_CNI_BRIDGE:-ledgerlet0}"
TESTBED_SERVICE_CIDR="${TESTBED_SERVICE_CIDR:-10.96.0.0/12}"
# The node's own address: the API server refuses to proxy to loopback or link-local addresses
# (nodes/<name>/proxy, logs, exec), so the node advertises a private address on an interface the
# testbed creates (`<bridge>-node`). Derived from the CNI subnet A.B.C.D/n, which differs between
# testbeds anyway: 172.30.B.(C+1), e.g. 172.30.88.1 for the default 10.88.0.0/16.
node_ip_default() {
  local b c
  IFS=./ read -r _ b c _ _ <<<"$TESTBED_CNI_SUBNET"
  [ "${c:-0}" -lt 255 ] || { echo "TESTBED_CNI_SUBNET ${TESTBED_CNI_SUBNET}: set TESTBED_NODE_IP (172.30.B.C+1 overflows)" >&2; return 1; }
  echo "172.30.${b}.$((c + 1))"
}
TESTBED_NODE_IP="${TESTBED_NODE_IP:-$(node_ip_default)}"
TESTBED_NODE_IFACE="${TESTBED_NODE_IFACE:-${TESTBED_CNI_BRIDGE}-node}"
TESTBED_REGISTRY="127.0.0.1:${TESTBED_REGISTRY_PORT}"
# The node agent's kubelet API port, which metrics-server scrapes (tests pass the same to ledgerlet).
TESTBED_KUBELET_PORT="${TESTBED_KUBELET_PORT:-10250}"
# metrics-server listens on a host address the apiserver's aggregator may dial through Endpoints
# (never loopback: Endpoints refuse it): the source address of the default route unless set.
TESTBED_METRICS_SERVER_PORT="${TESTBED_METRICS_SERVER_PORT:-$((TESTBED_APISERVER_PORT + 4000))}"
default_host_ip() { ip -4 route get 192.0.2.255 2>/dev/null | awk '{for (i = 1; i < NF; i++) if ($i == "src") {print $(i + 1); exit}}'; }
TESTBED_METRICS_SERVER_ADDRESS="${TESTBED_METRICS_SERVER_ADDRESS:-$(default_host_ip)}"
# The second registry, which requires HTTP basic authentication (imagePullSecrets tests). Its
# password is made at the first `up` and kept (0600) beside its htpasswd file.
TESTBED_AUTH_REGISTRY_PORT="${TESTBED_AUTH_REGISTRY_PORT:-$((TESTBED_REGISTRY_PORT + 100))}"
TESTBED_AUTH_REGISTRY="127.0.0.1:${TESTBED_AUTH_REGISTRY_PORT}"
TESTBED_AUTH_REGISTRY_USER="${TESTBED_AUTH_REGISTRY_USER:-ledgerlet-puller}"
AUTH_REGISTRY_DIR="${TESTBED_DIR}/auth-registry"

# The one Kubernetes pin: read from the wrapper module, never written twice.
K8S_MODULE_DIR="${REPO_ROOT}/testbed/k8s"
ETCD_MODULE_DIR="${REPO_ROOT}/testbed/etcd"
K8S_VERSION="$(awk '$1=="k8s.io/kubernetes" && $2 ~ /^v/ {print $2; exit}' "${K8S_MODULE_DIR}/go.mod")"
ETCD_VERSION="$(awk '$1=="go.etcd.io/etcd/server/v3" && $2 ~ /^v/ {print $2; exit}' "${ETCD_MODULE_DIR}/go.mod")"
K8S_BIN_DIR="${LEDGERLET_CACHE}/k8s-${K8S_VERSION}/bin"
ETCD_BIN_DIR="${LEDGERLET_CACHE}/etcd-${ETCD_VERSION}/bin"
METRICS_SERVER_MODULE_DIR="${REPO_ROOT}/testbed/metrics-server"
METRICS_SERVER_VERSION="$(awk '$1=="sigs.k8s.io/metrics-server" && $2 ~ /^v/ {print $2; exit}' "${METRICS_SERVER_MODULE_DIR}/go.mod")"
METRICS_SERVER_BIN_DIR="${LEDGERLET_CACHE}/metrics-server-${METRICS_SERVER_VERSION}/bin"
# One folder with every binary the testbed built (symlinks into the versioned caches).
TESTBED_BIN="${LEDGERLET_CACHE}/bin"

# Image names. Tags name what is inside: Debian's busybox version, agnhost's own VERSION file.
BUSYBOX_TAG="${BUSYBOX_TAG:-1.35.0}"
PAUSE_TAG="${PAUSE_TAG:-3.10-ledgerlet}"
TESTBED_IMAGE_BUSYBOX="${TESTBED_REGISTRY}/ledgerlet/busybox:${BUSYBOX_TAG}"
TESTBED_IMAGE_PAUSE="${TESTBED_REGISTRY}/ledgerlet/pause:${PAUSE_TAG}"
TESTBED_AUTH_IMAGE_BUSYBOX="${TESTBED_AUTH_REGISTRY}/ledgerlet/busybox:${BUSYBOX_TAG}"
agnhost_tag() {
  local v
  v="$(cat "${GOMODCACHE:-$(go env GOMODCACHE 2>/dev/null || echo /root/go/pkg/mod)}/k8s.io/kubernetes@${K8S_VERSION}/test/images/agnhost/VERSION" 2>/dev/null || true)"
  echo "${v:-${K8S_VERSION}}"
}

PID_DIR="${TESTBED_DIR}/pids"
LOG_DIR="${TESTBED_DIR}/logs"
PKI_DIR="${TESTBED_DIR}/pki"
CTRD_DIR="${TESTBED_DIR}/containerd"
CTRD_SOCK="${CTRD_DIR}/containerd.sock"
TESTBED_CRI_ENDPOINT="unix://${CTRD_SOCK}"
CNI_CONF_DIR="${TESTBED_DIR}/cni/net.d"
CNI_DATA_DIR="${TESTBED_DIR}/cni/networks"
ADMIN_KUBECONFIG="${TESTBED_DIR}/kubeconfig/admin.kubeconfig"
NODE_KUBECONFIG="${TESTBED_DIR}/kubeconfig/node.kubeconfig"
APISERVER_URL="https://127.0.0.1:${TESTBED_APISERVER_PORT}"

log() { printf '[testbed %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

require_root() { [ "$(id -u)" = 0 ] || die "must run as root (containerd, CNI and mounts need it)"; }

# --- processes ---------------------------------------------------------------------------
# Each component runs in its own session (setsid), so its pid is also its process group id.
# The pid file holds the pid and the executable, so a recycled pid is never mistaken for ours.

pid_of() { # name -> prints pid if the recorded process is alive and is the recorded binary
  local f="${PID_DIR}/$1.pid" pid exe
  [ -f "$f" ] || return 1
  read -r pid exe < "$f" || return 1
  [ -n "${pid:-}" ] && [ -d "/proc/${pid}" ] || return 1
  if [ -n "${exe:-}" ]; then
    # a binary rebuilt while its process runs shows as "<path> (deleted)"
    local running
    running="$(readlink "/proc/${pid}/exe" 2>/dev/null)" || return 1
    running="${running% (deleted)}"
    [ "$running" = "$(readlink -f "$exe")" ] || return 1
  fi
  echo "$pid"
}

is_running() { pid_of "$1" >/dev/null; }

start_bg() { # name exe args... : start in its own session, log to $LOG_DIR/name.log
  local name="$1"; shift
  local exe="$1"
  mkdir -p "$PID_DIR" "$LOG_DIR"
  {
    printf '\n=== %s starting %s\n' "$(date -Is)" "$*"
  } >> "${LOG_DIR}/${name}.log"
  # fd 9 is the testbed's lock: the daemon must not inherit it
  setsid nohup "$@" >> "${LOG_DIR}/${name}.log" 2>&1 < /dev/null 9>&- &
  local pid=$!
  echo "${pid} ${exe}" > "${PID_DIR}/${name}.pid"
  log "started ${name} (pid ${pid}, log ${LOG_DIR}/${name}.log)"
}

alive() { # pid : exists and is not a zombie (an exited daemon may wait a while for init to reap it)
  [ -d "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

stop_pid_group() { # name : TERM the recorded process group, then KILL after a grace period
  local name="$1" pid i
  pid="$(pid_of "$name")" || { rm -f "${PID_DIR}/${name}.pid"; return 0; }
  log "stopping ${name} (pid ${pid})"
  kill -TERM -- "-${pid}" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 150); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then
    log "${name} did not stop within 15 s of TERM; sending KILL"
    kill -KILL -- "-${pid}" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "${PID_DIR}/${name}.pid"
}

wait_for() { # description max-tries command... : retry every 0.5 s
  local what="$1" tries="$2"; shift 2
  local i
  for i in $(seq 1 "$tries"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  return 1
}

sha256_of() { sha256sum | awk '{print $1}'; }
