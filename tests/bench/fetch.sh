#!/usr/bin/env bash
# The fetch benchmark: Pipit against mpop and fetchmail, and the raw burst
# (every RETR at once through openssl, output thrown away: the limit), on one
# real Dovecot on loopback, implicit TLS, mail left on the server. Each client
# fetches the whole mailbox into a fresh place. Each round runs every client
# once, in turn, after a `sync` so no one pays for the previous one's disk
# writes; the table shows each client's median over the rounds (seconds,
# ratios to the raw burst and to mpop) and its largest peak memory.
#
# usage: tests/bench/fetch.sh [--quick] [--rounds N] [--round-trips]
#   --quick: smaller mailboxes; --rounds: rounds per workload (default 3)
#   --round-trips: only the round trips (flights, counted by the delay proxy)
#     and times of a first fetch and of a check with nothing new, at 50 ms
#     round trip, for Pipit (each way of logging in), mpop and the raw burst
# needs root or sudo the first time, to install dovecot-pop3d mpop fetchmail time.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
inbox=2000; small=500; rounds=3; round_trips=
while [ $# -gt 0 ]; do
  case $1 in
    --quick) inbox=300; small=100 ;;
    --rounds) rounds=$2; shift ;;
    --round-trips) round_trips=1 ;;
    *) echo "usage: $0 [--quick] [--rounds N] [--round-trips]" >&2; exit 2 ;;
  esac
  shift
done

need=()
[ -x /usr/sbin/dovecot ] || need+=(dovecot-pop3d)
command -v mpop >/dev/null || need+=(mpop)
command -v fetchmail >/dev/null || need+=(fetchmail)
[ -x /usr/bin/time ] || need+=(time)
command -v openssl >/dev/null || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then
  sudo=(); [ "$(id -u)" = 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${need[@]}" >/dev/null \
    || { echo "fetch.sh: cannot install ${need[*]}" >&2; exit 1; }
fi
# PIPIT_BIN: a pipit binary to time instead of building the release one.
if [ -n "${PIPIT_BIN:-}" ]; then
  pipit=$PIPIT_BIN
else
  cargo build --release --locked -q
  pipit=$root/target/release/pipit
fi

work=$(mktemp -d /tmp/pipit-bench-XXXXXX); chmod 755 "$work"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# free_ports N: N distinct free ports, chosen while all are held.
free_ports() { python3 -c 'import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"; }

# start_dovecot NAME PROFILE COUNT -> sets $lab and $tls
start_dovecot() {
  lab=$work/$1; mkdir -p "$lab"/{run,state} "$lab/home/alice/Maildir"/{cur,new,tmp}
  chmod 755 "$lab" "$lab/run" "$lab/home"
  python3 "$root/tests/bench/genmail.py" "$lab/src" --count "$3" --profile "$2"
  local i=0; for f in "$lab"/src/*; do i=$((i+1)); cp "$f" "$lab/home/alice/Maildir/cur/1700000000.$i.bench:2,"; done
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -addext basicConstraints=critical,CA:FALSE \
    -keyout "$lab/key.pem" -out "$lab/cert.pem" 2>/dev/null
  local uid gid internal login
  if [ "$(id -u)" = 0 ]; then
    chown -R nobody:nogroup "$lab/home"; uid=$(id -u nobody); gid=$(id -g nobody); internal=dovecot; login=dovenull
  else
    uid=$(id -u); gid=$(id -g); internal=$(id -un); login=$internal
  fi
  echo "alice:{PLAIN}secret:$uid:$gid::$lab/home/alice::" > "$lab/users"
  local plain; read -r tls plain < <(free_ports 2)
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
${auth_mechanisms:+auth_mechanisms = $auth_mechanisms}
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
    port = $plain
  }
  inet_listener pop3s {
    port = $tls
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
  # Warm the server (index files, page cache) with one untimed pass.
  run_client raw "$lab" "$tls" "$3" >/dev/null
}

# run_client CLIENT LAB PORT COUNT -> prints "seconds peak-kB"
run_client() {
  local client=$1 lab=$2 port=$3 count=$4 dir; dir=$(mktemp -d "$work/run-XXXXXX"); chmod 755 "$dir"
  local cmd
  case $client in
    raw)
      { printf 'USER alice\r\nPASS secret\r\n'; for i in $(seq "$count"); do printf 'RETR %d\r\n' "$i"; done; printf 'QUIT\r\n'; } > "$dir/cmds"
      cmd=(sh -c "openssl s_client -quiet -connect 127.0.0.1:$port -CAfile $lab/cert.pem < $dir/cmds 2>/dev/null > /dev/null") ;;
    pipit)
      "$pipit" --home "$dir/home" account add bench --host 127.0.0.1 --port "$port" --user alice \
        --password-command 'printf secret' --ca-file "$lab/cert.pem" --policy keep >/dev/null 2>&1
      cmd=("$pipit" --home "$dir/home" fetch) ;;
    mpop)
      mkdir -p "$dir/md"/{cur,new,tmp}
      cmd=(mpop --host=127.0.0.1 --port="$port" --tls=on --tls-starttls=off --tls-trust-file="$lab/cert.pem"
           --auth=user --user=alice --passwordeval='echo secret' --keep=on --only-new=off
           --uidls-file="$dir/uidls" --received-header=off --delivery=maildir,"$dir/md" -q) ;;
    fetchmail)
      printf 'set no bouncemail\npoll localhost service %s protocol pop3 user alice password secret ssl sslcertck sslcertfile %s keep fetchall bsmtp %s\n' \
        "$port" "$lab/cert.pem" "$dir/out.bsmtp" > "$dir/rc"; chmod 600 "$dir/rc"
      cmd=(env HOME="$dir" fetchmail -s -f "$dir/rc" --pidfile "$dir/pid") ;;
  esac
  /usr/bin/time -f "%e %M" -o "$dir/time" "${cmd[@]}" >/dev/null 2>"$dir/err" || [ "$client" = fetchmail ] || {
    echo "fetch.sh: $client failed:" >&2; cat "$dir/err" >&2; exit 1; }
  cat "$dir/time"
  # What Pipit's store takes on disk (the database and any WAL left), for
  # the store size / mail size row.
  if [ "$client" = pipit ]; then
    cat "$dir/home/pipit.db" "$dir/home/pipit.db-wal" 2>/dev/null | wc -c > "$lab/store_bytes"
  fi
  # Kept until the end: ext4 searches longer for a free inode while many were
  # deleted in the last half minute, which would slow whoever runs next
  # (mpop, writing a file per message, most).
}

rows=()
race() {  # race LABEL PORT COUNT
  local label=$1 port=$2 count=$3 client secs kb
  declare -A times peak
  for _ in $(seq "$rounds"); do
    for client in raw pipit mpop fetchmail; do
      sync
      read -r secs kb < <(run_client "$client" "$lab" "$port" "$count" | tail -n 1)
      times[$client]+="$secs "
      [ "$kb" -gt "${peak[$client]:-0}" ] && peak[$client]=$kb
    done
  done
  for client in raw pipit mpop fetchmail; do
    rows+=("$label|$client|$(median ${times[$client]})|${peak[$client]}")
  done
}
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# round_trip CLIENT AUTH DIR -> "flights seconds" of one run through the
# counting delay proxy ($delayed, counts in $flights_file)
round_trip() {
  local client=$1 auth=$2 dir=$3 cmd
  : > "$flights_file"
  case $client in
    pipit)
      [ -d "$dir/home" ] || "$pipit" --home "$dir/home" account add rt --host 127.0.0.1 --port "$delayed" \
        --user alice --password-command 'printf secret' --ca-file "$lab/cert.pem" --policy keep \
        --auth "$auth" >/dev/null 2>&1
      cmd=("$pipit" --home "$dir/home" fetch) ;;
    mpop)
      mkdir -p "$dir/md"/{cur,new,tmp}
      cmd=(mpop --host=127.0.0.1 --port="$delayed" --tls=on --tls-starttls=off --tls-trust-file="$lab/cert.pem"
           --auth="$auth" --user=alice --passwordeval='echo secret' --keep=on --only-new=on
           --uidls-file="$dir/uidls" --received-header=off --delivery=maildir,"$dir/md" -q) ;;
    raw)
      # Everything at once: a fetch RETRs every message, a check lists.
      if [ -f "$dir/seen" ]; then
        printf 'USER alice\r\nPASS secret\r\nUIDL\r\nQUIT\r\n' > "$dir/cmds"
      else
        { printf 'USER alice\r\nPASS secret\r\n'; for i in $(seq "$small_rt"); do printf 'RETR %d\r\n' "$i"; done; printf 'QUIT\r\n'; } > "$dir/cmds"
        touch "$dir/seen"
      fi
      cmd=(sh -c "openssl s_client -quiet -connect 127.0.0.1:$delayed -CAfile $lab/cert.pem < $dir/cmds 2>/dev/null > /dev/null") ;;
  esac
  /usr/bin/time -f "%e" -o "$dir/time" "${cmd[@]}" >/dev/null 2>"$dir/err" || {
    echo "fetch.sh: $client failed:" >&2; cat "$dir/err" >&2; exit 1; }
  # The proxy writes a connection's count once both ends have closed.
  for _ in $(seq 50); do [ -s "$flights_file" ] && break; sleep 0.1; done
  sleep 0.2
  echo "$(paste -sd+ "$flights_file") $(cat "$dir/time")"
}

if [ -n "$round_trips" ]; then
  small_rt=20; auth_mechanisms="plain login cram-md5 scram-sha-256"
  start_dovecot rt small "$small_rt"
  delayed=$(free_ports 1); flights_file=$work/flights
  python3 "$root/tests/bench/delay_proxy.py" "$delayed" "$tls" --delay-ms 25 --count "$flights_file" >/dev/null 2>&1 & pids+=($!)
  sleep 0.5
  echo
  echo "Round trips at 50 ms round trip ($small_rt small messages, implicit TLS; flights from the client,"
  echo "the TLS handshake's two included): a first fetch of them all, then a check with nothing new"
  printf '%-8s %-15s %14s %10s %14s %10s\n' client auth 'fetch: trips' seconds 'check: trips' seconds
  for spec in pipit:plain pipit:user pipit:scram-sha-256 pipit:auto mpop:user mpop:plain mpop:scram-sha-256 raw:user; do
    client=${spec%%:*}; auth=${spec#*:}; dir=$(mktemp -d "$work/rt-XXXXXX"); chmod 755 "$dir"
    read -r ff fs < <(round_trip "$client" "$auth" "$dir")
    read -r cf cs < <(round_trip "$client" "$auth" "$dir")
    printf '%-8s %-15s %14s %10.2f %14s %10.2f\n' "$client" "$auth" "$ff" "$fs" "$cf" "$cs"
  done
  echo "(one run each; Pipit's check: a server seen before, so no CAPA before the login)"
  exit 0
fi

start_dovecot inbox inbox "$inbox"
race "$inbox inbox messages" "$tls" "$inbox"
inbox_mail=$(cat "$lab"/src/* | wc -c); inbox_store=$(cat "$lab/store_bytes"); inbox_label="$inbox inbox messages"
start_dovecot small small "$small"
race "$small small messages" "$tls" "$small"
delayed=$(free_ports 1)
python3 "$root/tests/bench/delay_proxy.py" "$delayed" "$tls" --delay-ms 25 >/dev/null 2>&1 & pids+=($!)
sleep 0.5
race "$small small, 50 ms round trip" "$delayed" "$small"

echo
echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); Dovecot $(/usr/sbin/dovecot --version | cut -d' ' -f1), implicit TLS on loopback"
printf '%-34s %-10s %9s %8s %8s %10s\n' workload client seconds '×raw' '×mpop' 'peak MB'
declare -A raw_of mpop_of
for r in "${rows[@]}"; do
  IFS='|' read -r l c s k <<<"$r"
  case $c in raw) raw_of[$l]=$s;; mpop) mpop_of[$l]=$s;; esac
done
for r in "${rows[@]}"; do
  IFS='|' read -r l c s k <<<"$r"
  printf '%-34s %-10s %9.2f %8.2f %8.2f %10.1f\n' "$l" "$c" "$s" \
    "$(awk "BEGIN{print $s/${raw_of[$l]}}")" "$(awk "BEGIN{print $s/${mpop_of[$l]}}")" "$(awk "BEGIN{print $k/1024}")"
done
echo "(median of $rounds rounds; peak memory: the largest of them)"
echo
printf '%-48s %22s %10s\n' 'target (the inbox)' measured target
pipit_of=; for r in "${rows[@]}"; do IFS='|' read -r l c s k <<<"$r"; [ "$l|$c" = "$inbox_label|pipit" ] && pipit_of=$s; done
printf '%-48s %22s %10s\n' "Pipit / raw burst, $inbox_label" \
  "$(awk "BEGIN{printf \"%.2f×\", $pipit_of/${raw_of[$inbox_label]}}")" '≤ 1.2×'
printf '%-48s %22s %10s\n' "store size / mail size, $inbox_label" \
  "$(awk "BEGIN{printf \"%.0f / %.0f MB = %.2f×\", $inbox_store/1e6, $inbox_mail/1e6, $inbox_store/$inbox_mail}")" '≤ 0.6×'
