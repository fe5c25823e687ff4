# shellcheck shell=bash
# The testbed's PKI, made with openssl on first `up` and kept under $TESTBED_DIR/pki:
# a CA, the apiserver's serving certificate, client certificates for the admin
# (O=system:masters), the node (CN=system:node:<name>, O=system:nodes), the controller-manager
# and the scheduler, a serving certificate for the node agent's own port, and the
# service-account signing key pair; a second CA for the aggregation layer's front proxy (the
# apiserver's client certificate towards metrics-server) and metrics-server's client certificate.
# Kubeconfigs embed their certificates so they can be copied.
# Sourced after common.sh.

ca_ok() { [ -s "${PKI_DIR}/${1:-ca}.crt" ] && [ -s "${PKI_DIR}/${1:-ca}.key" ]; }

make_ca() { # [name] [CN]: the testbed CA, or another one (front-proxy-ca)
  local name="${1:-ca}" cn="${2:-ledgerlet-testbed-ca}"
  ca_ok "$name" && return 0
  log "creating the CA ${cn}"
  mkdir -p "$PKI_DIR"; chmod 0700 "$PKI_DIR"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "${PKI_DIR}/${name}.key" -out "${PKI_DIR}/${name}.crt" -days 3650 \
    -subj "/CN=${cn}" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
}

# issue name subject eku [subjectAltName]; ISSUER=<ca name> signs with another CA than the testbed's
issue() {
  local name="$1" subj="$2" eku="$3" san="${4:-}" ca="${ISSUER:-ca}"
  local crt="${PKI_DIR}/${name}.crt" key="${PKI_DIR}/${name}.key"
  # reuse while it was issued by the current CA for the same names (a new node IP gets a new certificate)
  if [ -s "$crt" ] && [ -s "$key" ] && openssl verify -CAfile "${PKI_DIR}/${ca}.crt" "$crt" >/dev/null 2>&1 \
    && [ "$(cat "${PKI_DIR}/${name}.san" 2>/dev/null)" = "$san" ]; then
    return 0
  fi
  [ -s "$crt" ] && log "issuing ${name} again (CA or subjectAltName changed)"
  local ext
  ext="$(mktemp)"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=${eku}"
    [ -n "$san" ] && echo "subjectAltName=${san}"
  } > "$ext"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$key" -out "${PKI_DIR}/${name}.csr" -subj "$subj" 2>/dev/null
  openssl x509 -req -in "${PKI_DIR}/${name}.csr" -CA "${PKI_DIR}/${ca}.crt" -CAkey "${PKI_DIR}/${ca}.key" \
    -CAcreateserial -days 825 -sha256 -extfile "$ext" -out "$crt" 2>/dev/null
  rm -f "$ext" "${PKI_DIR}/${name}.csr"
  chmod 0600 "$key"
  printf '%s' "$san" > "${PKI_DIR}/${name}.san"
}

b64() { base64 -w0 < "$1"; }

write_kubeconfig() { # file user cert-name
  local file="$1" user="$2" cert="$3"
  mkdir -p "$(dirname "$file")"
  cat > "${file}.tmp" <<KC
apiVersion: v1
kind: Config
clusters:
- name: ledgerlet-testbed
  cluster:
    server: ${APISERVER_URL}
    certificate-authority-data: $(b64 "${PKI_DIR}/ca.crt")
users:
- name: ${user}
  user:
    client-certificate-data: $(b64 "${PKI_DIR}/${cert}.crt")
    client-key-data: $(b64 "${PKI_DIR}/${cert}.key")
contexts:
- name: ${user}@ledgerlet-testbed
  context:
    cluster: ledgerlet-testbed
    user: ${user}
current-context: ${user}@ledgerlet-testbed
KC
  chmod 0600 "${file}.tmp"
  mv -f "${file}.tmp" "$file"
}

make_pki() {
  make_ca
  local n="$TESTBED_NODE_NAME"
  issue apiserver "/CN=kube-apiserver" serverAuth \
    "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.96.0.1"
  issue apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
  issue admin "/O=system:masters/CN=ledgerlet-testbed-admin" clientAuth
  issue "node-${n}" "/O=system:nodes/CN=system:node:${n}" clientAuth
  issue "node-${n}-serving" "/O=system:nodes/CN=system:node:${n}" serverAuth "DNS:${n},DNS:localhost,IP:127.0.0.1,IP:${TESTBED_NODE_IP}"
  issue controller-manager "/CN=system:kube-controller-manager" clientAuth
  issue scheduler "/CN=system:kube-scheduler" clientAuth
  # metrics-server: its user for the apiserver and, with the same certificate, for the kubelet API
  issue metrics-server "/CN=system:metrics-server" clientAuth
  # the aggregation layer: the apiserver proxies to metrics-server with this client certificate,
  # which metrics-server accepts only from the front-proxy CA and only with this CN
  make_ca front-proxy-ca ledgerlet-testbed-front-proxy-ca
  ISSUER=front-proxy-ca issue front-proxy-client "/CN=front-proxy-client" clientAuth
  if [ ! -s "${PKI_DIR}/sa.key" ]; then
    openssl genrsa -out "${PKI_DIR}/sa.key" 2048 2>/dev/null
    openssl rsa -in "${PKI_DIR}/sa.key" -pubout -out "${PKI_DIR}/sa.pub" 2>/dev/null
    chmod 0600 "${PKI_DIR}/sa.key"
  fi
  write_kubeconfig "$ADMIN_KUBECONFIG" ledgerlet-testbed-admin admin
  write_kubeconfig "$NODE_KUBECONFIG" "system:node:${n}" "node-${n}"
  write_kubeconfig "${TESTBED_DIR}/kubeconfig/controller-manager.kubeconfig" system:kube-controller-manager controller-manager
  write_kubeconfig "${TESTBED_DIR}/kubeconfig/scheduler.kubeconfig" system:kube-scheduler scheduler
  write_kubeconfig "${TESTBED_DIR}/kubeconfig/metrics-server.kubeconfig" system:metrics-server metrics-server
}
