# Used by scripts/test: the real Prometheus Alertmanager for tests/test_alertmanager.py.
# Installs the Debian package when it is missing and this can (root, apt); otherwise those tests skip
# and say why. The tests run the binary themselves on loopback ports: the package's own service is
# not wanted, so it is stopped and disabled where systemd started it.

ensure_alertmanager() {
  command -v prometheus-alertmanager >/dev/null 2>&1 && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "scripts/test: prometheus-alertmanager is not installed (needs root and apt); its tests will skip" >&2
    return 0
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends prometheus-alertmanager >/dev/null 2>&1; then
    apt-get update -q >/dev/null 2>&1 || true
    apt-get install -y -q --no-install-recommends prometheus-alertmanager >/dev/null 2>&1 \
      || { echo "scripts/test: could not install prometheus-alertmanager; its tests will skip" >&2; return 0; }
  fi
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now prometheus-alertmanager >/dev/null 2>&1 || true
  fi
}
