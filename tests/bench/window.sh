#!/usr/bin/env bash
# The window's own costs, with the real binary under Xvfb, on a store of
# 100,000 messages (built by `cargo bench --bench store -- --build-only`):
#   - time from the process's start to the first frame that draws mail,
#     warm (files in the page cache) and cold (Pipit's files evicted first:
#     the binary, the store, and every library the last run mapped, with
#     posix_fadvise DONTNEED; the rest of the machine's cache is left alone,
#     and a virtual disk may still be cached by its host);
#   - CPU while the window sits idle for 10 s (from /proc/PID/stat), and
#     how many frames it drew meanwhile (none: no repaint loop);
#   - CPU while Get Mail (F5) fetches 2,000 messages (196 MB) from a real
#     Dovecot in the background, against `pipit fetch` of the same mailbox
#     alone (the engine's share): what the window adds.
# The window logs its frames (PIPIT_FRAME_LOG): microseconds since the
# epoch and the rows of mail drawn.
#
# usage: tests/bench/window.sh [--messages N] [--rounds N]
# needs: xvfb-run, xdotool, dovecot-pop3d, openssl, python3.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
messages=100000; rounds=3; inbox=2000
while [ $# -gt 0 ]; do
  case $1 in
    --messages) messages=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    *) echo "usage: $0 [--messages N] [--rounds N]" >&2; exit 2 ;;
  esac
  shift
done

if [ -n "${PIPIT_BIN:-}" ]; then
  pipit=$PIPIT_BIN
else
  cargo build --release --locked -q
  pipit=$root/target/release/pipit
fi
# The store is kept between runs (building 100,000 messages takes a while).
store_dir=${PIPIT_WINDOW_STORE:-$root/target/bench-window-$messages}
PIPIT_BENCH_STORE=$store_dir PIPIT_BENCH_MESSAGES=$messages \
  cargo bench --bench store -q -- --build-only >&2

work=$(mktemp -d /tmp/pipit-window-XXXXXX); chmod 755 "$work"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
export XDG_CACHE_HOME="$work/cache" XDG_RUNTIME_DIR="$work/run"
mkdir -p "$XDG_RUNTIME_DIR"; chmod 700 "$XDG_RUNTIME_DIR"
unset DBUS_SESSION_BUS_ADDRESS
tick=$(getconf CLK_TCK)

# The window's profile: a copy of the store, and one account on the Dovecot below.
home=$work/home; mkdir -p "$home"
cp "$store_dir/pipit.db" "$home/pipit.db"

# A real Dovecot on loopback with the fetch benchmark's inbox.
lab=$work/lab; mkdir -p "$lab"/{run,state} "$lab/home/alice/Maildir"/{cur,new,tmp}
chmod 755 "$lab" "$lab/run" "$lab/home"
python3 tests/bench/genmail.py "$lab/src" --count "$inbox" --profile inbox
i=0; for f in "$lab"/src/*; do i=$((i+1)); cp "$f" "$lab/home/alice/Maildir/cur/1700000000.$i.bench:2,"; done
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -addext basicConstraints=critical,CA:FALSE \
  -keyout "$lab/key.pem" -out "$lab/cert.pem" 2>/dev/null
if [ "$(id -u)" = 0 ]; then
  chown -R nobody:nogroup "$lab/home"; uid=$(id -u nobody); gid=$(id -g nobody); internal=dovecot; login=dovenull
else
  uid=$(id -u); gid=$(id -g); internal=$(id -un); login=$internal
fi
echo "alice:{PLAIN}secret:$uid:$gid::$lab/home/alice::" > "$lab/users"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$lab/dovecot.conf" <<CONF
base_dir = $lab/run
state_dir = $lab/state
log_path = $lab/dovecot.log
protocols = pop3
listen = 127.0.0.1
ssl = yes
ssl_cert = <$lab/cert.pem
ssl_key = <$lab/key.pem
disable_plaintext_auth = no
mail_location = maildir:~/Maildir
pop3_uidl_format = %08Xu%08Xv
default_internal_user = $internal
default_login_user = $login
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $lab/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $lab/users
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
  inet_listener pop3s {
    port = $port
    ssl = yes
  }
  chroot =
}
service anvil {
  chroot =
}
CONF
/usr/sbin/dovecot -c "$lab/dovecot.conf" </dev/null >/dev/null 2>&1
for _ in $(seq 100); do [ -f "$lab/run/master.pid" ] && break; sleep 0.05; done
pids+=("$(cat "$lab/run/master.pid")")
add_account() {
  "$pipit" --home "$1" account add bench --host 127.0.0.1 --port "$port" --user alice \
    --password-command 'printf secret' --ca-file "$lab/cert.pem" --policy keep >/dev/null
}
add_account "$home"

# cpu PID: the process's CPU time so far, in clock ticks (all its threads).
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
now_us() { date +%s%6N; }
# evict FILE...: drop these files' pages from the page cache.
evict() { python3 -c 'import os, sys
for f in sys.argv[1:]:
    try:
        fd = os.open(f, os.O_RDONLY)
    except OSError:
        continue
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)' "$@"; }

# xvfb LOG HOME PIDFILE: the window under a fresh Xvfb, in the background.
xvfb() {
  xvfb-run -a -s "-screen 0 1280x800x24" bash -c 'PIPIT_FRAME_LOG=$1 "$0" --home "$2" & echo $! > "$3"; wait' \
    "$pipit" "$@" >/dev/null 2>"$work/pipit.err" &
}
# first_mail_ms LOG T0: milliseconds from T0 to the first frame with mail.
first_mail_ms() {
  local log=$1 t0=$2
  awk -v t0="$t0" '$2 > 0 { printf "%.0f\n", ($1 - t0) / 1000; exit }' "$log"
}
# start_window NAME: starts the window, waits for its first frame with
# mail; sets $pid, $log, $started.
start_window() {
  log=$work/frames.$1; : > "$log"; rm -f "$work/pid"
  started=$(now_us)
  xvfb "$log" "$home" "$work/pid"
  pids+=($!)
  for _ in $(seq 600); do
    [ -s "$work/pid" ] && awk '$2 > 0 { found = 1 } END { exit !found }' "$log" 2>/dev/null && break
    sleep 0.05
  done
  pid=$(cat "$work/pid")
}
stop_window() { kill "$pid" 2>/dev/null || true; wait 2>/dev/null || true; }

# Xvfb itself starts in the time measured: the first frame also waits for
# it. Its own start is timed apart, so the table shows both.
results=()
warm=(); cold=(); idle_cpu=(); idle_frames=()
for round in $(seq "$rounds"); do
  # Warm: the previous run left everything in the page cache.
  start_window "warm$round"
  warm+=("$(first_mail_ms "$log" "$started")")
  # Idle: settle, then 10 s untouched.
  sleep 3
  c0=$(cpu "$pid"); f0=$(wc -l < "$log"); t0=$(now_us)
  sleep 10
  c1=$(cpu "$pid"); f1=$(wc -l < "$log"); t1=$(now_us)
  idle_cpu+=("$(awk -v c="$((c1 - c0))" -v t="$((t1 - t0))" -v k="$tick" 'BEGIN { printf "%.1f", 100 * c / k / (t / 1e6) }')")
  idle_frames+=("$((f1 - f0))")
  mapped=$(awk '$6 ~ /^\// { print $6 }' "/proc/$pid/maps" | sort -u)
  stop_window
  # Cold: Pipit's files out of the page cache first.
  # shellcheck disable=SC2086
  evict "$pipit" "$home/pipit.db" "$home/pipit.db-wal" $mapped
  start_window "cold$round"
  cold+=("$(first_mail_ms "$log" "$started")")
  stop_window
done

# The fetch: Get Mail in the window (F5) with the 100,000 listed, against
# the same fetch headless into a copy of the same store.
cli_home=$work/cli; mkdir -p "$cli_home"; cp "$home/pipit.db" "$cli_home/pipit.db"
rm -f "$cli_home/pipit.db-wal"
add_account "$cli_home"
t0=$(now_us)
/usr/bin/time -f "%U %S" -o "$work/cli.time" "$pipit" --home "$cli_home" fetch >/dev/null
t1=$(now_us)
cli_wall=$(awk -v t="$((t1 - t0))" 'BEGIN { printf "%.2f", t / 1e6 }')
cli_cpu=$(awk '{ printf "%.2f", $1 + $2 }' "$work/cli.time")

start_window fetch
sleep 2
logouts() { grep -c "Logged out" "$lab/dovecot.log" 2>/dev/null || true; }
before=$(logouts)
# inx CMD...: CMD on the window's display.
inx() { env $(tr '\0' '\n' < "/proc/$pid/environ" | grep -E '^(DISPLAY|XAUTHORITY)=') "$@"; }
win=$(inx xdotool search --name "^Pipit" | head -1)
inx xdotool windowfocus --sync "$win" 2>/dev/null || true
c0=$(cpu "$pid"); t0=$(now_us); f0=$(wc -l < "$log")
inx xdotool key F5
for _ in $(seq 1200); do [ "$(logouts)" -gt "$before" ] && break; sleep 0.1; done
# The last rows reach the list after QUIT.
sleep 0.5
c1=$(cpu "$pid"); t1=$(now_us); f1=$(wc -l < "$log")
fetch_wall=$(awk -v t="$((t1 - t0))" 'BEGIN { printf "%.2f", t / 1e6 }')
fetch_cpu=$(awk -v c="$((c1 - c0))" -v k="$tick" 'BEGIN { printf "%.2f", c / k }')
fetch_frames=$((f1 - f0))
stop_window

median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
range() { printf '%s\n' "$@" | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "–" hi }'; }
echo
echo "The window's own costs: $messages messages in the store, $(nproc) cores, $rounds rounds (median, range)"
printf '%-60s %18s %10s\n' "measure" "result" "target"
printf '%-60s %18s %10s\n' "start to the first frame with mail, warm" "$(median "${warm[@]}") ms ($(range "${warm[@]}"))" "< 1000 ms"
printf '%-60s %18s %10s\n' "start to the first frame with mail, cold (files evicted)" "$(median "${cold[@]}") ms ($(range "${cold[@]}"))" "< 1000 ms"
printf '%-60s %18s %10s\n' "CPU while idle, 10 s (% of one core)" "$(median "${idle_cpu[@]}") % ($(range "${idle_cpu[@]}"))" "~0 %"
printf '%-60s %18s %10s\n' "frames drawn while idle, 10 s" "$(median "${idle_frames[@]}") ($(range "${idle_frames[@]}"))" "0"
printf '%-60s %18s %10s\n' "Get Mail of $inbox messages in the window: CPU / wall" "$fetch_cpu s / $fetch_wall s" ""
printf '%-60s %18s %10s\n' "the same fetch headless (pipit fetch): CPU / wall" "$cli_cpu s / $cli_wall s" ""
printf '%-60s %18s %10s\n' "frames drawn during the fetch" "$fetch_frames" ""
