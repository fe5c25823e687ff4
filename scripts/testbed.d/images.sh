# shellcheck shell=bash
# Test images, built locally and pushed to the testbed registry so that CRI PullImage has a
# real pull path: busybox (Debian's busybox-static with every applet), pause (a tiny static C
# program, testbed/images/pause/pause.c) and agnhost (built from k8s.io/kubernetes at the pin,
# on top of the busybox root filesystem, as upstream's image has a shell and network tools).
# Each image is rebuilt only when its inputs change (a key stored beside the OCI layout) and
# pushed only when the registry lacks that key's manifest.
# Sourced after common.sh and build.sh.

IMAGES_CACHE="${LEDGERLET_CACHE}/images"

busybox_rootfs() { # dir : a minimal root filesystem around the static busybox
  local root="$1" applet
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,var/www,home}
  chmod 1777 "$root/tmp"
  install -m 0755 /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list-full); do
    [ "$applet" = bin/busybox ] && continue
    mkdir -p "$root/$(dirname "$applet")"
    ln -sf /bin/busybox "$root/$applet"
  done
  cat > "$root/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PW
  cat > "$root/etc/group" <<'GR'
root:x:0:
nogroup:x:65534:
GR
}

pause_rootfs() {
  local root="$1"
  mkdir -p "$root"
  gcc -static -Os -Wall -Werror -o "$root/pause" "${REPO_ROOT}/testbed/images/pause/pause.c"
  strip "$root/pause"
}

agnhost_rootfs() {
  local root="$1" src
  busybox_rootfs "$root"
  install -m 0755 "${LEDGERLET_CACHE}/agnhost-${K8S_VERSION}/bin/agnhost" "$root/agnhost"
  ln -sf agnhost "$root/agnhost-2"
  mkdir -p "$root/uploads" "$root/home/user-defined-in-image"
  echo 'user-defined-in-image:x:1000:1000::/home/user-defined-in-image:/bin/sh' >> "$root/etc/passwd"
  echo 'user-defined-in-image:x:1000:' >> "$root/etc/group"
  echo 'group-defined-in-image:x:50000:user-defined-in-image' >> "$root/etc/group"
  # porter serves TLS with the test certificate that ships beside its source
  src="$(go env GOMODCACHE)/k8s.io/kubernetes@${K8S_VERSION}/test/images/agnhost/porter"
  if [ -f "$src/localhost.crt" ]; then
    install -m 0644 "$src/localhost.crt" "$root/localhost.crt"
    install -m 0644 "$src/localhost.key" "$root/localhost.key"
  fi
}

# The two small images upstream's e2e suite runs as a non-root user (scripts/conformance):
# nonroot is busybox with USER 1234; nonewprivs holds the setuid `nnp` built from its source in
# the pinned module (it prints its effective uid).
nonroot_rootfs() { busybox_rootfs "$1"; }

nonewprivs_rootfs() {
  local root="$1"
  busybox_rootfs "$root"
  mkdir -p "$root/usr/local/bin"
  install -m 4755 "${LEDGERLET_CACHE}/e2e-${K8S_VERSION}/bin/nnp" "$root/usr/local/bin/nnp"
}

image_key() { # name -> hash of everything the image is made of
  case "$1" in
    busybox) { echo busybox-v2; sha256sum /bin/busybox; declare -f busybox_rootfs; } | sha256_of ;;
    pause) { echo pause-v2; cat "${REPO_ROOT}/testbed/images/pause/pause.c"; gcc --version | head -1; declare -f pause_rootfs; } | sha256_of ;;
    nonroot) { echo nonroot-v1; sha256sum /bin/busybox; declare -f busybox_rootfs nonroot_rootfs; } | sha256_of ;;
    nonewprivs) { echo nonewprivs-v1; sha256sum /bin/busybox "${LEDGERLET_CACHE}/e2e-${K8S_VERSION}/bin/nnp"; declare -f busybox_rootfs nonewprivs_rootfs; } | sha256_of ;;
    agnhost) { echo agnhost-v2; sha256sum /bin/busybox "${LEDGERLET_CACHE}/agnhost-${K8S_VERSION}/bin/agnhost"; declare -f busybox_rootfs agnhost_rootfs; } | sha256_of ;;
  esac
}

image_ref() {
  case "$1" in
    busybox) echo "$TESTBED_IMAGE_BUSYBOX" ;;
    pause) echo "$TESTBED_IMAGE_PAUSE" ;;
    agnhost) echo "$(agnhost_image)" ;;
  esac
}

agnhost_image() { echo "${TESTBED_REGISTRY}/ledgerlet/agnhost:$(agnhost_tag)"; }

build_image() { # name -> OCI layout dir on stdout
  local name="$1" key layout work tag=latest
  key="$(image_key "$name")"
  layout="${IMAGES_CACHE}/${name}/oci"
  if [ -f "${IMAGES_CACHE}/${name}/key" ] && [ "$(cat "${IMAGES_CACHE}/${name}/key")" = "$key" ] && [ -d "$layout" ]; then
    echo "$layout"; return 0
  fi
  log "building image ${name}"
  rm -rf "${IMAGES_CACHE:?}/${name}"
  mkdir -p "${IMAGES_CACHE}/${name}"
  work="$(mktemp -d)"
  umoci init --layout "$layout" >&2
  umoci new --image "${layout}:${tag}" >&2
  umoci unpack --image "${layout}:${tag}" "${work}/bundle" >&2
  "${name}_rootfs" "${work}/bundle/rootfs"
  umoci repack --image "${layout}:${tag}" "${work}/bundle" >&2
  local cfg=(--os linux --architecture amd64 --author ledgerlet-testbed
    --config.env "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
  case "$name" in
    busybox) cfg+=(--config.cmd sh) ;;
    pause) cfg+=(--config.entrypoint /pause) ;;
    agnhost) cfg+=(--config.entrypoint /agnhost --config.cmd pause) ;;
    nonroot) cfg+=(--config.user 1234 --config.cmd sh) ;;
    nonewprivs) cfg+=(--config.cmd nnp) ;;
  esac
  umoci config --image "${layout}:${tag}" "${cfg[@]}" >&2
  umoci gc --layout "$layout" >&2
  rm -rf "$work"
  echo "$key" > "${IMAGES_CACHE}/${name}/key"
  echo "$layout"
}

registry_has() { # ref -> manifest exists in the testbed registry
  local ref="$1" repo tag
  repo="${ref#*/}"; tag="${repo##*:}"; repo="${repo%:*}"
  curl -fsS -o /dev/null -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://${TESTBED_REGISTRY}/v2/${repo}/manifests/${tag}"
}

push_image() { # name
  local name="$1" layout ref key pushed
  layout="$(build_image "$name")"
  ref="$(image_ref "$name")"
  key="$(cat "${IMAGES_CACHE}/${name}/key")"
  pushed="${TESTBED_DIR}/registry/pushed-${name}"
  if [ -f "$pushed" ] && [ "$(cat "$pushed")" = "${key} ${ref}" ] && registry_has "$ref"; then
    return 0
  fi
  log "pushing ${ref}"
  skopeo copy --quiet --insecure-policy --dest-tls-verify=false "oci:${layout}:latest" "docker://${ref}" >&2
  registry_has "$ref" || die "registry does not serve ${ref} after push"
  echo "${key} ${ref}" > "$pushed"
}

# busybox again, into the registry that requires authentication (skopeo logs in with --dest-creds)
push_auth_images() {
  local layout key pushed creds
  layout="$(build_image busybox)"
  key="$(cat "${IMAGES_CACHE}/busybox/key")"
  pushed="${AUTH_REGISTRY_DIR}/pushed-busybox"
  creds="${TESTBED_AUTH_REGISTRY_USER}:$(auth_registry_password)"
  if [ -f "$pushed" ] && [ "$(cat "$pushed")" = "${key} ${TESTBED_AUTH_IMAGE_BUSYBOX}" ] && auth_registry_has "$TESTBED_AUTH_IMAGE_BUSYBOX"; then
    return 0
  fi
  log "pushing ${TESTBED_AUTH_IMAGE_BUSYBOX}"
  skopeo copy --quiet --insecure-policy --dest-tls-verify=false --dest-creds "$creds" "oci:${layout}:latest" "docker://${TESTBED_AUTH_IMAGE_BUSYBOX}" >&2
  auth_registry_has "$TESTBED_AUTH_IMAGE_BUSYBOX" || die "the authenticating registry does not serve ${TESTBED_AUTH_IMAGE_BUSYBOX} after push"
  echo "${key} ${TESTBED_AUTH_IMAGE_BUSYBOX}" > "$pushed"
}

auth_registry_has() { # ref
  local ref="$1" repo tag
  repo="${ref#*/}"; tag="${repo##*:}"; repo="${repo%:*}"
  curl -fsS -o /dev/null -K - -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://${TESTBED_AUTH_REGISTRY}/v2/${repo}/manifests/${tag}" <<<"user = \"${TESTBED_AUTH_REGISTRY_USER}:$(auth_registry_password)\""
}

push_all_images() {
  push_image busybox
  push_image pause
  push_image agnhost
}
