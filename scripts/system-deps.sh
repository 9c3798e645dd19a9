#!/usr/bin/env bash
# Installs the system packages the tests talk to (a real Docker Engine and a Podman,
# busybox for the test image, PostgreSQL, Chromium for the dashboard's browser tests),
# only when they are missing. Needs root or sudo, and apt.
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

[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing system packages for the tests: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
