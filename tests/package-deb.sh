#!/usr/bin/env bash
# Builds the Debian package with cargo-deb and checks what it installs.
# Not part of tests/run.sh (it needs a release build and cargo-deb, about ten
# minutes on two cores); run it before a release.
# usage: tests/package-deb.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-deb >/dev/null || cargo install cargo-deb --locked
for tool in desktop-file-validate appstreamcli dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "package-deb.sh: $tool is missing (apt-get install desktop-file-utils appstream dpkg)" >&2; exit 1; }
done
desktop-file-validate packaging/org.pipit.Pipit.desktop
appstreamcli validate --no-net packaging/org.pipit.Pipit.metainfo.xml
deb=$(cargo deb --locked 2>/dev/null | tail -n 1)
[ -f "$deb" ] || { echo "package-deb.sh: cargo deb made no package" >&2; exit 1; }
listing=$(dpkg-deb -c "$deb")
missing=0
for path in ./usr/bin/pipit \
            ./usr/share/applications/org.pipit.Pipit.desktop \
            ./usr/share/metainfo/org.pipit.Pipit.metainfo.xml \
            ./usr/share/icons/hicolor/scalable/apps/org.pipit.Pipit.svg \
            ./usr/share/icons/hicolor/16x16/apps/org.pipit.Pipit.png \
            ./usr/share/icons/hicolor/512x512/apps/org.pipit.Pipit.png; do
  grep -q " $path\$" <<<"$listing" || { echo "package-deb.sh: $deb lacks $path" >&2; missing=1; }
done
[ "$missing" = 0 ] || exit 1
echo "ok: $deb"
dpkg-deb -I "$deb" | grep -E "Package|Version|Depends|Section"
