#!/usr/bin/env bash
# Starts `pipit demo` under Xvfb, opens the welcome message, and saves a
# screenshot: the README's picture comes from here (assets/screenshot.png),
# and the test suite runs it too (into target/tmp/demo.png).
# usage: tests/screenshot.sh PIPIT_BINARY OUT.png
# needs: xvfb-run, xauth, xdotool, imagemagick (tests/run.sh installs them)
set -euo pipefail
pipit=$1; out=$2
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
export XDG_CACHE_HOME="$work/cache" XDG_RUNTIME_DIR="$work/run"
mkdir -p "$XDG_RUNTIME_DIR"; chmod 700 "$XDG_RUNTIME_DIR"
unset DBUS_SESSION_BUS_ADDRESS
xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
    set -u
    "$0" demo 2>"$2/pipit.log" & pid=$!
    # Wait until the list has mail in it (the window is far from blank).
    for i in $(seq 60); do
        sleep 1
        import -window root "$1" 2>/dev/null || continue
        v=$(convert "$1" -format "%[fx:standard_deviation]" info:)
        if awk "BEGIN { exit !($v > 0.12) }"; then break; fi
    done
    # Open the first message, as a person would.
    xdotool mousemove 420 78 click 1 2>/dev/null || true
    sleep 2
    # The window alone, not the empty screen around it.
    win=$(xdotool search --name "^Pipit" 2>/dev/null | head -1)
    import -window "${win:-root}" "$1"
    kill $pid
' "$pipit" "$out" "$work"
convert "$out" -format "%[fx:standard_deviation]" info: >"$work/deviation"
echo "screenshot: $out (deviation $(cat "$work/deviation"))"
