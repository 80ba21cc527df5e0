#!/bin/sh
# Make sure the system packages of packaging/system-packages.txt are installed.
#
# Debian/Ubuntu only (dpkg and apt-get); elsewhere it says what to install and
# returns 0, since pip then reports what is really missing. Installs what is
# missing as root, or with `sudo -n` when that works without a password;
# otherwise prints the one command to run and exits 2, before pip starts.
# `--check` only reports (exit 2 when something is missing).
#
# PYTHON (default python3) is the interpreter the tests will use: its C
# headers are needed to build PyGObject, so pythonX.Y-dev joins the list when
# they are missing.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
list="$here/system-packages.txt"
python=${PYTHON:-python3}
mode=${1:-install}

packages=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$list" | tr -s '[:space:]' ' ')

if ! "$python" -c 'import os, sys, sysconfig
sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")) else 1)'
then
    version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    packages="$packages python$version-dev"
fi

if [ "$(uname -s)" != Linux ]; then
    exit 0  # macOS and others: the tests there need no system package
fi
if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    echo "system-packages: not a Debian/Ubuntu system; the tests need the equivalents of:" >&2
    echo "    $packages" >&2
    exit 0
fi

missing=""
for pkg in $packages; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    case "$status" in
        *" installed") ;;
        *) missing="$missing $pkg" ;;
    esac
done
missing=${missing# }
[ -z "$missing" ] && exit 0

command_line="apt-get install -y --no-install-recommends $missing"
if [ "$mode" = --check ]; then
    echo "system-packages: missing: $missing" >&2
    exit 2
fi

if [ "$(id -u)" = 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
    sudo="sudo -n"
else
    cat >&2 <<MSG

The tests need system packages that are not installed:
    $missing
Install them, then run \`make test\` again:

    sudo $command_line

MSG
    exit 2
fi

echo "system-packages: installing $missing" >&2
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get update -qq >/dev/null || ! $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null; then
    echo "system-packages: apt-get could not install: $missing" >&2
    echo "    run: sudo $command_line" >&2
    exit 2
fi
