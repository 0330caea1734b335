#!/usr/bin/env bash
# Build newsbot's image with podman where no image registry is reachable (`make image`, tests/test_container.py).
#
# The Dockerfile stays the conventional one (python:3.11-slim, public PyPI); what this machine needs is
# passed from here, for the build only:
#   - a base image made without a registry: a minbase Debian bookworm from debootstrap (the mirror apt
#     uses), imported as $BASE_IMAGE once and its tarball cached under $CACHE_DIR (later runs skip it);
#   - the extra CA certificates of the TLS-intercepting proxy (/usr/local/share/ca-certificates, what
#     update-ca-certificates reads) and the host's http(s) pip index settings, as build secrets;
#   - runc and explicit ulimits (container/containers.conf via CONTAINERS_CONF), host networking.
# Environment: NEWSBOT_IMAGE (default localhost/newsbot:latest), NEWSBOT_BASE (skip debootstrap and build
# FROM this image, e.g. python:3.11-slim where a registry is reachable), NEWSBOT_IMAGE_CACHE.
# `--tools`: only install the tools (make container-tools).
# Exit status 3: no podman here and it cannot be installed (the container test then skips, saying so).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
IMAGE=${NEWSBOT_IMAGE:-localhost/newsbot:latest}
BASE_IMAGE=localhost/debian:bookworm-slim
CACHE_DIR=${NEWSBOT_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/newsbot-image}
export PATH="$PATH:/usr/sbin:/sbin"  # debootstrap
export CONTAINERS_CONF=${CONTAINERS_CONF:-$ROOT/container/containers.conf}

say() { echo "image: $*" >&2; }

ensure_tools() {
    local missing=()
    for tool in podman buildah debootstrap runc; do
        command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
        if ! sudo -n true 2>/dev/null; then
            say "no podman here (missing: ${missing[*]}) and apt-get needs root"; exit 3
        fi
        sudo="sudo -n"
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        say "no podman here (missing: ${missing[*]}) and no apt-get to install it"; exit 3
    fi
    say "installing ${missing[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    if ! $sudo apt-get install -y -qq podman buildah debootstrap runc >/dev/null 2>&1; then
        $sudo apt-get update -qq >/dev/null 2>&1 || true
        if ! $sudo apt-get install -y -qq podman buildah debootstrap runc >/dev/null; then
            say "no podman here and apt-get could not install it"; exit 3
        fi
    fi
}

# The Debian mirror apt's sources use for bookworm itself (not -security): deb822 or one-line format.
debian_mirror() {
    local uri
    uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '
        /^[[:space:]]*$/ { if (uris != "" && suites ~ /(^| )bookworm( |$)/) { print uris; exit } uris = ""; suites = ""; next }
        /^URIs:/ { uris = $2 } /^Suites:/ { $1 = ""; suites = $0 " " }
        END { if (uris != "" && suites ~ /(^| )bookworm( |$)/) print uris }' | head -n1)
    if [ -z "$uri" ]; then
        uri=$(grep -hsE '^deb[[:space:]]+[^[]\S+[[:space:]]+bookworm[[:space:]]' /etc/apt/sources.list \
              /etc/apt/sources.list.d/*.list | awk '{ print $2; exit }')
    fi
    echo "${uri:-http://deb.debian.org/debian}"
}

ensure_base() {
    if podman image exists "$BASE_IMAGE"; then return 0; fi
    local tarball="$CACHE_DIR/debian-bookworm-minbase.tar"
    if [ ! -s "$tarball" ]; then
        local mirror rootfs
        mirror=$(debian_mirror)
        mkdir -p "$CACHE_DIR"
        rootfs=$(mktemp -d "$CACHE_DIR/rootfs.XXXXXX")
        trap 'rm -rf "$rootfs"' EXIT
        say "debootstrap --variant=minbase bookworm from $mirror (once; cached in $CACHE_DIR)"
        debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >/dev/null
        rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/*
        part=$(mktemp "$CACHE_DIR/tarball.XXXXXX")
        tar -C "$rootfs" -cf "$part" .
        mv "$part" "$tarball"
        rm -rf "$rootfs"
        trap - EXIT
    fi
    say "importing $tarball as $BASE_IMAGE"
    podman import "$tarball" "$BASE_IMAGE" >/dev/null
}

# The proxy's CA certificates and the host's http(s) pip index settings, as build-only secret files.
write_secrets() {
    local dir=$1
    : > "$dir/ca.pem"
    if [ -d /usr/local/share/ca-certificates ]; then
        find /usr/local/share/ca-certificates -type f -name '*.crt' -print0 | sort -z \
            | xargs -0 -r cat >> "$dir/ca.pem"
    fi
    python3 - "$dir/pip.conf" <<'PY'
import os, subprocess, sys
values = {}
try:
    listing = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
except OSError:
    listing = ""
for line in listing.splitlines():  # e.g. global.index-url='https://…'
    key, _, value = line.partition("=")
    name = key.rsplit(".", 1)[-1]
    if name in ("index-url", "extra-index-url", "trusted-host"):
        values.setdefault(name, value.strip("'\""))
for name in ("index-url", "extra-index-url", "trusted-host"):
    env = os.environ.get("PIP_" + name.upper().replace("-", "_"))
    if env:
        values[name] = env
keep = {}
for name, value in values.items():  # file:// indexes and local paths do not exist inside the build
    words = [w for w in value.split() if name == "trusted-host" or w.startswith(("http://", "https://"))]
    if words:
        keep[name] = " ".join(words)
with open(sys.argv[1], "w") as out:
    if keep:
        out.write("[global]\n" + "".join(f"{k} = {v}\n" for k, v in keep.items()))
PY
}

ensure_tools
if [ "${1:-}" = "--tools" ]; then exit 0; fi  # make container-tools: only install podman and friends
base=${NEWSBOT_BASE:-}
if [ -z "$base" ]; then
    ensure_base
    base=$BASE_IMAGE
fi
secrets=$(mktemp -d)
trap 'rm -rf "$secrets"' EXIT
write_secrets "$secrets"
say "building $IMAGE FROM $base"
podman build --runtime runc --network host --format docker --layers \
    --build-arg BASE="$base" \
    --secret id=ca_certs,src="$secrets/ca.pem" --secret id=pip_conf,src="$secrets/pip.conf" \
    -t "$IMAGE" -f "$ROOT/Dockerfile" "$ROOT"
