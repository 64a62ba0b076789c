# Installs aiosmtpd (PyPI, pinned) into a virtual environment of its own
# under ~/.cache, installing Debian's python3-venv first if missing, and
# sets AIOSMTPD to the server's program. Sourced by scripts/test and
# scripts/bench.
venv="$HOME/.cache/edufed-venv"
if [ ! -x "$venv/bin/aiosmtpd" ]; then
    if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
        echo "installing Python's venv (Debian's python3-venv)" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
    fi
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check aiosmtpd==1.4.6
fi
AIOSMTPD="$venv/bin/aiosmtpd"
