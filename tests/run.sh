#!/usr/bin/env bash
# Runs every check Pipit has: formatting, clippy, unit and integration tests.
# On Debian it first installs what the tests talk to (a real Dovecot, a real
# Secret Service in a private D-Bus session, an X server for the window) and
# fails loudly if it cannot: no test is ever skipped for a missing part.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
[ -x /usr/sbin/dovecot ] || need+=(dovecot-pop3d)
command -v openssl >/dev/null || need+=(openssl)
command -v dbus-run-session >/dev/null || need+=(dbus)
command -v gnome-keyring-daemon >/dev/null || need+=(gnome-keyring)
command -v secret-tool >/dev/null || need+=(libsecret-tools)
command -v unshare >/dev/null || need+=(util-linux)
command -v xvfb-run >/dev/null || need+=(xvfb)
command -v xauth >/dev/null || need+=(xauth)
command -v import >/dev/null || need+=(imagemagick)
command -v xdotool >/dev/null || need+=(xdotool)
command -v curl >/dev/null || need+=(curl)
command -v desktop-file-validate >/dev/null || need+=(desktop-file-utils)
command -v appstreamcli >/dev/null || need+=(appstream)
[ -e /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf ] || need+=(fonts-droid-fallback)
if [ ${#need[@]} -gt 0 ]; then
  echo "tests/run.sh: installing ${need[*]}" >&2
  if [ "$(id -u)" = 0 ]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else
    echo "tests/run.sh: ${need[*]} must be installed, and this needs root (or sudo)" >&2; exit 1
  fi
  if ! { "${sudo[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${need[@]}" >/dev/null; }; then
    echo "tests/run.sh: could not install ${need[*]}; the tests need them" >&2; exit 1
  fi
fi

cargo fmt --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked
