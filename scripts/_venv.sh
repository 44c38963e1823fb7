# Shared by scripts/run and scripts/test: a project-local virtualenv, reinstalled when requirements change.
VENV="${VENV:-.venv}"

PYTHON="${PYTHON:-python3}"

ensure_venv() {
  local requirements="$1" stamp
  if [ ! -x "$VENV/bin/python" ]; then
    if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "incident-bot needs Python 3.11 or newer; $PYTHON is $("$PYTHON" -V 2>&1 || echo missing). Set PYTHON=python3.11 (or newer)." >&2
      exit 2
    fi
    "$PYTHON" -m venv "$VENV"
  fi
  stamp="$VENV/.installed-$(cat requirements*.txt | sha256sum | cut -c1-16)-$(basename "$requirements")"
  if [ ! -f "$stamp" ]; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    touch "$stamp"
  fi
}
