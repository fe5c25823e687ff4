# shellcheck shell=bash
# Starting, checking and stopping each testbed component. Sourced after the other parts.

render() { # template output : fill @NAME@ placeholders
  local tmpl="$1" out="$2"
  mkdir -p "$(dirname "$out")"
  sed -e "s|@CTRD_DIR@|${CTRD_DIR}|g" \
      -e "s|@PAUSE_IMAGE@|${TESTBED_IMAGE_PAUSE}|g" \
      -e "s|@CNI_CONF_DIR@|${CNI_CONF_DIR}|g" \
      -e "s|@CNI_DATA_DIR@|${CNI_DATA_DIR}|g" \
      -e "s|@CNI_BRIDGE@|${TESTBED_CNI_BRIDGE}|g" \
      -e "s|@CNI_SUBNET@|${TESTBED_CNI_SUBNET}|g" \
      -e "s|@REGISTRY@|${TESTBED_REGISTRY}|g" \
      -e "s|@REGISTRY_DIR@|${TESTBED_DIR}/registry/storage|g" \
      -e "s|@AUTH_REGISTRY@|${TESTBED_AUTH_REGISTRY}|g" \
      -e "s|@AUTH_REGISTRY_DIR@|${AUTH_REGISTRY_DIR}|g" \
      -e "s|@METRICS_SERVER_ADDRESS@|${TESTBED_METRICS_SERVER_ADDRESS}|g" \
      -e "s|@METRICS_SERVER_PORT@|${TESTBED_METRICS_SERVER_PORT}|g" \
      "$tmpl" > "${out}.tmp"
  mv -f "${out}.tmp" "$out"
}

port_free() { ! ss -Hltn "sport = :$1" | grep -q .; }

ensure_port_free() { # port component
  port_free "$1" || die "port $1 (for $2) is taken by a process the testbed did not start: $(ss -Hltnp "sport = :$1" | head -1)"
}

# --- the node's address ----------------------------------------------------------------------
# A dummy interface holding TESTBED_NODE_IP/32 (a port-less bridge where the kernel has no dummy
# driver, as in this machine's VM): local to the host, not loopback, so the API server proxies to it.
node_address_present() { # (grep on a captured string: with pipefail, grep -q's early exit can fail the pipe)
  local addrs
  addrs="$(ip -o addr show dev "$TESTBED_NODE_IFACE" 2>/dev/null)" || return 1
  [[ "$addrs" == *" inet ${TESTBED_NODE_IP}/32 "* ]]
}

up_node_address() {
  [ "${#TESTBED_NODE_IFACE}" -le 15 ] || die "interface name ${TESTBED_NODE_IFACE} is longer than 15 characters: set TESTBED_NODE_IFACE"
  if node_address_present; then return 0; fi
  local holder
  holder="$(ip -o addr show to "${TESTBED_NODE_IP}/32" | awk '{print $2}')"
  [ -z "$holder" ] || die "TESTBED_NODE_IP ${TESTBED_NODE_IP} is already on another interface: ${holder}"
  if ! ip link show "$TESTBED_NODE_IFACE" >/dev/null 2>&1; then
    ip link add "$TESTBED_NODE_IFACE" type dummy 2>/dev/null || ip link add "$TESTBED_NODE_IFACE" type bridge \
      || die "cannot create the node interface ${TESTBED_NODE_IFACE}"
  fi
  ip addr flush dev "$TESTBED_NODE_IFACE"
  ip addr add "${TESTBED_NODE_IP}/32" dev "$TESTBED_NODE_IFACE"
  ip link set "$TESTBED_NODE_IFACE" up
  log "node address ${TESTBED_NODE_IP} on ${TESTBED_NODE_IFACE}"
}

down_node_address() { ip link delete "$TESTBED_NODE_IFACE" 2>/dev/null || true; }

# --- registry ------------------------------------------------------------------------------
registry_healthy() { curl -fsS -o /dev/null "http://${TESTBED_REGISTRY}/v2/"; }

up_registry() {
  if is_running registry && registry_healthy; then return 0; fi
  stop_pid_group registry
  ensure_port_free "$TESTBED_REGISTRY_PORT" registry
  render "${REPO_ROOT}/testbed/registry/config.yml.in" "${TESTBED_DIR}/registry/config.yml"
  mkdir -p "${TESTBED_DIR}/registry/storage"
  start_bg registry /usr/bin/docker-registry serve "${TESTBED_DIR}/registry/config.yml"
  wait_for registry 60 registry_healthy || die "registry did not answer on ${TESTBED_REGISTRY}; see ${LOG_DIR}/registry.log"
}

# --- registry with authentication ------------------------------------------------------------
auth_registry_password() { cat "${AUTH_REGISTRY_DIR}/password" 2>/dev/null; }

# healthy: refuses an anonymous request with 401 and accepts the testbed's credentials
auth_registry_healthy() {
  local code
  code="$(curl -sS -o /dev/null -w '%{http_code}' "http://${TESTBED_AUTH_REGISTRY}/v2/")" || return 1
  [ "$code" = 401 ] || return 1
  curl -fsS -o /dev/null -K - <<<"user = \"${TESTBED_AUTH_REGISTRY_USER}:$(auth_registry_password)\"" "http://${TESTBED_AUTH_REGISTRY}/v2/"
}

up_auth_registry() {
  command -v htpasswd >/dev/null || die "htpasswd is missing (Debian's apache2-utils): run scripts/install"
  mkdir -p "${AUTH_REGISTRY_DIR}/storage"
  chmod 0700 "$AUTH_REGISTRY_DIR"
  if [ ! -s "${AUTH_REGISTRY_DIR}/password" ]; then
    (umask 077; openssl rand -hex 16 > "${AUTH_REGISTRY_DIR}/password")
  fi
  # bcrypt (-B), the only hash distribution's htpasswd accepts; the password goes in on stdin (-i)
  local want
  want="$(printf '%s %s' "$TESTBED_AUTH_REGISTRY_USER" "$(auth_registry_password)" | sha256_of)"
  if [ ! -s "${AUTH_REGISTRY_DIR}/htpasswd" ] || [ "$(cat "${AUTH_REGISTRY_DIR}/htpasswd.key" 2>/dev/null)" != "$want" ]; then
    auth_registry_password | htpasswd -B -i -c "${AUTH_REGISTRY_DIR}/htpasswd" "$TESTBED_AUTH_REGISTRY_USER" 2>/dev/null
    echo "$want" > "${AUTH_REGISTRY_DIR}/htpasswd.key"
    stop_pid_group auth-registry # it reads the file at start
  fi
  render "${REPO_ROOT}/testbed/registry/auth-config.yml.in" "${AUTH_REGISTRY_DIR}/config.yml"
  if is_running auth-registry && auth_registry_healthy; then return 0; fi
  stop_pid_group auth-registry
  ensure_port_free "$TESTBED_AUTH_REGISTRY_PORT" auth-registry
  start_bg auth-registry /usr/bin/docker-registry serve "${AUTH_REGISTRY_DIR}/config.yml"
  wait_for auth-registry 60 auth_registry_healthy || die "the authenticating registry did not answer on ${TESTBED_AUTH_REGISTRY}; see ${LOG_DIR}/auth-registry.log"
}

# --- containerd ----------------------------------------------------------------------------
containerd_healthy() { "${TESTBED_BIN}/testbed-cri" -endpoint "$TESTBED_CRI_ENDPOINT" -timeout 3s version >/dev/null 2>&1; }

up_containerd() {
  render "${REPO_ROOT}/testbed/containerd/config.toml.in" "${CTRD_DIR}/config.toml"
  render "${REPO_ROOT}/testbed/cni/10-ledgerlet.conflist.in" "${CNI_CONF_DIR}/10-ledgerlet.conflist"
  mkdir -p "$CNI_DATA_DIR"
  if is_running containerd && containerd_healthy; then return 0; fi
  stop_pid_group containerd
  rm -f "$CTRD_SOCK"
  start_bg containerd /usr/bin/containerd --config "${CTRD_DIR}/config.toml"
  wait_for containerd 120 containerd_healthy || die "containerd's CRI did not answer on ${CTRD_SOCK}; see ${LOG_DIR}/containerd.log"
}

# --- etcd ----------------------------------------------------------------------------------
etcd_healthy() { curl -fsS "http://127.0.0.1:${TESTBED_ETCD_CLIENT_PORT}/health" | grep -q '"health":"true"'; }

up_etcd() {
  if is_running etcd && etcd_healthy; then return 0; fi
  stop_pid_group etcd
  ensure_port_free "$TESTBED_ETCD_CLIENT_PORT" etcd
  mkdir -p "${TESTBED_DIR}/etcd"; chmod 0700 "${TESTBED_DIR}/etcd"
  start_bg etcd "${ETCD_BIN_DIR}/etcd" \
    --name ledgerlet-testbed --data-dir "${TESTBED_DIR}/etcd" \
    --listen-client-urls "http://127.0.0.1:${TESTBED_ETCD_CLIENT_PORT}" \
    --advertise-client-urls "http://127.0.0.1:${TESTBED_ETCD_CLIENT_PORT}" \
    --listen-peer-urls "http://127.0.0.1:${TESTBED_ETCD_PEER_PORT}" \
    --initial-advertise-peer-urls "http://127.0.0.1:${TESTBED_ETCD_PEER_PORT}" \
    --initial-cluster "ledgerlet-testbed=http://127.0.0.1:${TESTBED_ETCD_PEER_PORT}" \
    --listen-metrics-urls "" --log-level warn --quota-backend-bytes 2147483648
  wait_for etcd 120 etcd_healthy || die "etcd did not become healthy; see ${LOG_DIR}/etcd.log"
}

# --- kube-apiserver ------------------------------------------------------------------------
admin_curl() {
  curl -fsS --cacert "${PKI_DIR}/ca.crt" --cert "${PKI_DIR}/admin.crt" --key "${PKI_DIR}/admin.key" "$@"
}
apiserver_ready() { admin_curl "${APISERVER_URL}/readyz" | grep -qx ok; }

apiserver_args() {
  printf '%s\n' \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="${TESTBED_APISERVER_PORT}" \
    --cert-dir="${TESTBED_DIR}/apiserver" \
    --etcd-servers="http://127.0.0.1:${TESTBED_ETCD_CLIENT_PORT}" \
    --tls-cert-file="${PKI_DIR}/apiserver.crt" --tls-private-key-file="${PKI_DIR}/apiserver.key" \
    --client-ca-file="${PKI_DIR}/ca.crt" \
    --kubelet-client-certificate="${PKI_DIR}/apiserver-kubelet-client.crt" \
    --kubelet-client-key="${PKI_DIR}/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="${PKI_DIR}/ca.crt" \
    --kubelet-preferred-address-types=InternalIP,Hostname \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="${PKI_DIR}/sa.pub" \
    --service-account-signing-key-file="${PKI_DIR}/sa.key" \
    --api-audiences=https://kubernetes.default.svc.cluster.local \
    --service-cluster-ip-range="${TESTBED_SERVICE_CIDR}" \
    --authorization-mode=Node,RBAC \
    --enable-admission-plugins=NodeRestriction \
    --allow-privileged=true \
    --endpoint-reconciler-type=none \
    --requestheader-client-ca-file="${PKI_DIR}/front-proxy-ca.crt" \
    --requestheader-allowed-names=front-proxy-client \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --requestheader-group-headers=X-Remote-Group \
    --requestheader-username-headers=X-Remote-User \
    --proxy-client-cert-file="${PKI_DIR}/front-proxy-client.crt" \
    --proxy-client-key-file="${PKI_DIR}/front-proxy-client.key" \
    --enable-aggregator-routing=true \
    --profiling=false
}

up_apiserver() {
  local args key
  mapfile -t args < <(apiserver_args)
  # started with other flags (an older testbed): restart it with these
  key="$(printf '%s\n' "${args[@]}" | sha256_of)"
  if is_running kube-apiserver && apiserver_ready && [ "$(cat "${TESTBED_DIR}/apiserver/.args" 2>/dev/null)" = "$key" ]; then return 0; fi
  stop_pid_group kube-apiserver
  ensure_port_free "$TESTBED_APISERVER_PORT" kube-apiserver
  mkdir -p "${TESTBED_DIR}/apiserver"
  start_bg kube-apiserver "${K8S_BIN_DIR}/kube-apiserver" "${args[@]}"
  echo "$key" > "${TESTBED_DIR}/apiserver/.args"
  wait_for kube-apiserver 240 apiserver_ready || die "kube-apiserver did not become ready; see ${LOG_DIR}/kube-apiserver.log"
}

# --- controller-manager and scheduler --------------------------------------------------------
cm_healthy() { curl -fsSk https://127.0.0.1:${TESTBED_CM_PORT}/healthz | grep -qx ok; }
sched_healthy() { curl -fsSk https://127.0.0.1:${TESTBED_SCHED_PORT}/healthz | grep -qx ok; }

up_controller_manager() {
  if is_running kube-controller-manager && cm_healthy; then return 0; fi
  stop_pid_group kube-controller-manager
  ensure_port_free ${TESTBED_CM_PORT} kube-controller-manager
  local kc="${TESTBED_DIR}/kubeconfig/controller-manager.kubeconfig"
  start_bg kube-controller-manager "${K8S_BIN_DIR}/kube-controller-manager" \
    --kubeconfig="$kc" --authentication-kubeconfig="$kc" --authorization-kubeconfig="$kc" \
    --bind-address=127.0.0.1 --secure-port=${TESTBED_CM_PORT} --cert-dir="${TESTBED_DIR}/controller-manager" \
    --leader-elect=false --use-service-account-credentials=true \
    --service-account-private-key-file="${PKI_DIR}/sa.key" --root-ca-file="${PKI_DIR}/ca.crt" \
    --cluster-signing-cert-file="${PKI_DIR}/ca.crt" --cluster-signing-key-file="${PKI_DIR}/ca.key" \
    --service-cluster-ip-range="${TESTBED_SERVICE_CIDR}" \
    --profiling=false
  wait_for kube-controller-manager 120 cm_healthy || die "kube-controller-manager did not become healthy; see ${LOG_DIR}/kube-controller-manager.log"
}

up_scheduler() {
  if is_running kube-scheduler && sched_healthy; then return 0; fi
  stop_pid_group kube-scheduler
  ensure_port_free ${TESTBED_SCHED_PORT} kube-scheduler
  local kc="${TESTBED_DIR}/kubeconfig/scheduler.kubeconfig"
  start_bg kube-scheduler "${K8S_BIN_DIR}/kube-scheduler" \
    --kubeconfig="$kc" --authentication-kubeconfig="$kc" --authorization-kubeconfig="$kc" \
    --bind-address=127.0.0.1 --secure-port=${TESTBED_SCHED_PORT} --leader-elect=false --profiling=false
  wait_for kube-scheduler 120 sched_healthy || die "kube-scheduler did not become healthy; see ${LOG_DIR}/kube-scheduler.log"
}

# --- metrics-server --------------------------------------------------------------------------
# A host process like the control plane, registered as the v1beta1.metrics.k8s.io APIService. It
# scrapes each node's /metrics/resource at the node's InternalIP on TESTBED_KUBELET_PORT with its
# client certificate (the kubelet API authorizes it through nodes/metrics, as upstream), and does
# not verify the node's serving certificate (--kubelet-insecure-tls, as upstream's docs allow for
# test clusters): the tests' agents may serve a self-signed one.
metrics_server_url() { echo "https://${TESTBED_METRICS_SERVER_ADDRESS}:${TESTBED_METRICS_SERVER_PORT}"; }
metrics_server_healthy() { curl -fsSk "$(metrics_server_url)/livez" | grep -qx ok; }

metrics_server_args() {
  local kc="${TESTBED_DIR}/kubeconfig/metrics-server.kubeconfig"
  printf '%s\n' \
    --kubeconfig="$kc" --authentication-kubeconfig="$kc" --authorization-kubeconfig="$kc" \
    --bind-address="${TESTBED_METRICS_SERVER_ADDRESS}" --secure-port="${TESTBED_METRICS_SERVER_PORT}" \
    --cert-dir="${TESTBED_DIR}/metrics-server" \
    --requestheader-client-ca-file="${PKI_DIR}/front-proxy-ca.crt" \
    --requestheader-allowed-names=front-proxy-client \
    --kubelet-insecure-tls \
    --kubelet-preferred-address-types=InternalIP \
    --kubelet-port="${TESTBED_KUBELET_PORT}" \
    --metric-resolution=15s \
    --profiling=false
}

up_metrics_server() {
  [ -n "$TESTBED_METRICS_SERVER_ADDRESS" ] || die "no host address for metrics-server (no default route): set TESTBED_METRICS_SERVER_ADDRESS"
  render "${REPO_ROOT}/testbed/metrics-server/metrics-server.yaml.in" "${TESTBED_DIR}/metrics-server/metrics-server.yaml"
  "${K8S_BIN_DIR}/kubectl" --kubeconfig="$ADMIN_KUBECONFIG" apply -f "${TESTBED_DIR}/metrics-server/metrics-server.yaml" >/dev/null \
    || die "could not register metrics-server (RBAC, Service, APIService)"
  local args key
  mapfile -t args < <(metrics_server_args)
  key="$(printf '%s\n' "${args[@]}" | sha256_of)"
  if is_running metrics-server && metrics_server_healthy && [ "$(cat "${TESTBED_DIR}/metrics-server/.args" 2>/dev/null)" = "$key" ]; then return 0; fi
  stop_pid_group metrics-server
  ensure_port_free "$TESTBED_METRICS_SERVER_PORT" metrics-server
  mkdir -p "${TESTBED_DIR}/metrics-server"
  start_bg metrics-server "${METRICS_SERVER_BIN_DIR}/metrics-server" "${args[@]}"
  echo "$key" > "${TESTBED_DIR}/metrics-server/.args"
  wait_for metrics-server 120 metrics_server_healthy || die "metrics-server did not become healthy; see ${LOG_DIR}/metrics-server.log"
}

# --- down ------------------------------------------------------------------------------------
clean_runtime() {
  # 1) through CRI while containerd runs: stops containers, tears down CNI, removes sandboxes
  if is_running containerd && [ -x "${TESTBED_BIN}/testbed-cri" ]; then
    "${TESTBED_BIN}/testbed-cri" -endpoint "$TESTBED_CRI_ENDPOINT" -timeout 60s clean >&2 \
      || log "CRI clean-up reported errors; falling back to runc for what is left"
  fi
}

clean_leftovers() {
  # 2) shims of this containerd (their command line names this containerd's socket)
  local pid cmd
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address ${CTRD_SOCK}( |$)" 2>/dev/null || true); do
    cmd="$(tr '\0' ' ' < "/proc/${pid}/cmdline" 2>/dev/null || true)"
    case "$cmd" in *"-address ${CTRD_SOCK} "*|*"-address ${CTRD_SOCK}") ;; *) continue ;; esac
    log "killing leftover shim ${pid}"
    kill -KILL "$pid" 2>/dev/null || true
  done
  # 3) containers still known to runc under this testbed's runc root
  local root id
  for root in "${CTRD_DIR}"/runc/*; do
    [ -d "$root" ] || continue
    for id in $(runc --root "$root" list -q 2>/dev/null || true); do
      log "removing leftover container ${id}"
      runc --root "$root" kill -a "$id" KILL 2>/dev/null || true
      runc --root "$root" delete -f "$id" 2>/dev/null || true
    done
  done
  # 4) the CNI bridge (it is the testbed's own, named in its conflist)
  ip link delete "$TESTBED_CNI_BRIDGE" 2>/dev/null || true
  # 5) mounts left under the testbed's containerd directories
  local m
  for m in $(awk -v d="${CTRD_DIR}/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
}

ALL_COMPONENTS=(registry auth-registry containerd etcd kube-apiserver kube-controller-manager kube-scheduler metrics-server)
