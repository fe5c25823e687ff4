# shellcheck shell=bash
# Go builds of the testbed's binaries, each cached under $LEDGERLET_CACHE and keyed by a stamp:
# the hash of the pin, the Go version, the flags and the resolved module graph. A build runs
# only when that key changes; otherwise the cached binaries are reused.
# Sourced after common.sh.

k8s_ldflags() {
  local minor major p flags="-s -w"
  major="$(echo "${K8S_VERSION#v}" | cut -d. -f1)"
  minor="$(echo "${K8S_VERSION#v}" | cut -d. -f2)"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X ${p}.gitVersion=${K8S_VERSION} -X ${p}.gitMajor=${major} -X ${p}.gitMinor=${minor}"
    flags+=" -X ${p}.gitTreeState=clean -X ${p}.buildDate=2026-01-01T00:00:00Z"
  done
  echo "$flags"
}

# stamp_key module_dir extra... : what the binaries depend on
stamp_key() {
  local dir="$1"; shift
  { echo "$@"; go version; (cd "$dir" && go list -m all); } | sha256_of
}

stamp_ok() { # stamp_file key binaries...
  local stamp="$1" key="$2"; shift 2
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ] || return 1
  local b
  for b in "$@"; do [ -x "$b" ] || return 1; done
}

build_control_plane() {
  local out="$K8S_BIN_DIR" flags key
  flags="$(k8s_ldflags)"
  key="$(stamp_key "$K8S_MODULE_DIR" control-plane "$flags")"
  if stamp_ok "${out}/.stamp" "$key" "$out/kube-apiserver" "$out/kube-controller-manager" "$out/kube-scheduler" "$out/kubectl"; then
    log "control plane ${K8S_VERSION}: cached in ${out}"
    return 0
  fi
  log "building kube-apiserver, kube-controller-manager, kube-scheduler, kubectl ${K8S_VERSION} (minutes on a cold cache)"
  mkdir -p "$out"
  rm -f "${out}/.stamp"
  (cd "$K8S_MODULE_DIR" && go build -trimpath -ldflags "$flags" -o "${out}/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)
  "${out}/kube-apiserver" --version | grep -qx "Kubernetes ${K8S_VERSION}" || die "kube-apiserver does not report ${K8S_VERSION}"
  echo "$key" > "${out}/.stamp"
}

build_agnhost() {
  local tag out key
  tag="$(agnhost_tag)"
  out="${LEDGERLET_CACHE}/agnhost-${K8S_VERSION}/bin"
  key="$(stamp_key "$K8S_MODULE_DIR" agnhost CGO_ENABLED=0)"
  if stamp_ok "${out}/.stamp" "$key" "${out}/agnhost"; then
    log "agnhost ${tag}: cached in ${out}"
    return 0
  fi
  log "building agnhost ${tag} (static) from k8s.io/kubernetes ${K8S_VERSION}"
  mkdir -p "$out"
  rm -f "${out}/.stamp"
  (cd "$K8S_MODULE_DIR" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "${out}/agnhost" \
    k8s.io/kubernetes/test/images/agnhost)
  echo "$key" > "${out}/.stamp"
}

build_etcd() {
  local out="$ETCD_BIN_DIR" key
  key="$(stamp_key "$ETCD_MODULE_DIR" etcd)"
  if stamp_ok "${out}/.stamp" "$key" "${out}/etcd"; then
    log "etcd ${ETCD_VERSION}: cached in ${out}"
    return 0
  fi
  log "building etcd ${ETCD_VERSION} from go.etcd.io/etcd/server/v3"
  mkdir -p "$out"
  rm -f "${out}/.stamp"
  (cd "$ETCD_MODULE_DIR" && go build -trimpath -ldflags "-s -w" -o "${out}/etcd" go.etcd.io/etcd/server/v3)
  echo "$key" > "${out}/.stamp"
}

build_metrics_server() {
  local out="$METRICS_SERVER_BIN_DIR" key
  key="$(stamp_key "$METRICS_SERVER_MODULE_DIR" metrics-server)"
  if stamp_ok "${out}/.stamp" "$key" "${out}/metrics-server"; then
    log "metrics-server ${METRICS_SERVER_VERSION}: cached in ${out}"
    return 0
  fi
  log "building metrics-server ${METRICS_SERVER_VERSION} from sigs.k8s.io/metrics-server"
  mkdir -p "$out"
  rm -f "${out}/.stamp"
  (cd "$METRICS_SERVER_MODULE_DIR" && go build -trimpath -ldflags "-s -w" -o "${out}/metrics-server" sigs.k8s.io/metrics-server/cmd/metrics-server)
  echo "$key" > "${out}/.stamp"
}

build_testbed_cri() {
  local out="${LEDGERLET_CACHE}/tools/bin" key
  key="$(stamp_key "$K8S_MODULE_DIR" testbed-cri "$(cat "${K8S_MODULE_DIR}"/cmd/testbed-cri/*.go | sha256_of)")"
  if stamp_ok "${out}/.stamp-testbed-cri" "$key" "${out}/testbed-cri"; then
    return 0
  fi
  log "building testbed-cri (CRI clean-up and listing tool)"
  mkdir -p "$out"
  (cd "$K8S_MODULE_DIR" && go build -trimpath -ldflags "-s -w" -o "${out}/testbed-cri" ./cmd/testbed-cri)
  echo "$key" > "${out}/.stamp-testbed-cri"
}

link_bin_dir() {
  mkdir -p "$TESTBED_BIN"
  local b
  for b in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    ln -sfn "${K8S_BIN_DIR}/${b}" "${TESTBED_BIN}/${b}"
  done
  ln -sfn "${ETCD_BIN_DIR}/etcd" "${TESTBED_BIN}/etcd"
  ln -sfn "${LEDGERLET_CACHE}/agnhost-${K8S_VERSION}/bin/agnhost" "${TESTBED_BIN}/agnhost"
  ln -sfn "${LEDGERLET_CACHE}/tools/bin/testbed-cri" "${TESTBED_BIN}/testbed-cri"
  ln -sfn "${METRICS_SERVER_BIN_DIR}/metrics-server" "${TESTBED_BIN}/metrics-server"
}

build_all() {
  build_control_plane
  build_etcd
  build_agnhost
  build_testbed_cri
  build_metrics_server
  link_bin_dir
}
