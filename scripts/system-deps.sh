#!/usr/bin/env bash
# Installs the system packages the tests talk to (a real Docker Engine and a Podman,
# busybox for the test image, PostgreSQL, Chromium for the dashboard's browser tests),
# and promtool (which checks deploy/prometheus/), only when they are missing. Needs root
# or sudo, and apt.
set -euo pipefail

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
# Podman 4.3, the second engine the docker kind is tested against: its runtime (runc, as
# the tests configure it), its network stack (netavark, which needs iptables)
command -v podman >/dev/null 2>&1 || missing+=(podman)
command -v runc >/dev/null 2>&1 || missing+=(runc)
[ -x /usr/lib/podman/netavark ] || missing+=(netavark)
command -v iptables >/dev/null 2>&1 || missing+=(iptables)
[ -x /bin/busybox ] || [ -x /usr/bin/busybox ] || missing+=(busybox-static)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v unshare >/dev/null 2>&1 || missing+=(util-linux)  # the local kind's job namespaces
# the dashboard's browser tests drive Debian's Chromium through Playwright (never
# `playwright install`, which downloads its own build); the pages need a font to render
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -d /usr/share/fonts/truetype/dejavu ] || missing+=(fonts-dejavu-core)

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing system packages for the tests: ${missing[*]}"
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# promtool, from Debian's prometheus package, alone: installing the package would also
# install (and, on a host with systemd, start) a Prometheus server. The package is
# downloaded and only its promtool (a static binary) is copied to /usr/local/bin.
if ! command -v promtool >/dev/null 2>&1; then
  echo "installing promtool from Debian's prometheus package"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && apt-get download prometheus >/dev/null 2>&1 \
    || { $sudo apt-get update -q && apt-get download prometheus; })
  dpkg-deb -x "$work"/prometheus_*.deb "$work/x"
  $sudo install -m 755 "$work/x/usr/bin/promtool" /usr/local/bin/promtool
fi
