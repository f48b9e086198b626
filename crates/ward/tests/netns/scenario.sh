#!/usr/bin/env bash
# Runs real tools in network namespaces of its own, on loopback addresses
# (127.0.10.0/24 over veth, route_localnet), and captures the traffic:
#   127.0.10.1  "pacs": DCMTK storescp (AE PACS, port 104), an HL7 sink
#               (busybox nc, port 2575), inetutils telnetd (port 23)
#   127.0.10.2  "modality": DCMTK echoscu/storescu as MODALITY, HL7 over MLLP
#   127.0.10.66 "intruder": nmap connect scan, telnet login
# Usage: scenario.sh OUT.pcap PHASE...   (PHASE: normal | attack)
# Writes OUT.pcap and OUT.pcap.marks (one line per phase: NAME UNIX_SECONDS at its start).
# With SCENARIO_PAUSE=1 (live tests): once the servers run, writes the PACS
# namespace's name (its bridge is br0) to OUT.pcap.ready and waits for
# OUT.pcap.go before the phases; afterwards writes OUT.pcap.done and waits
# for OUT.pcap.release before tearing down.
# Needs root, iproute2, tcpdump, dcmtk, busybox, nmap, inetutils-telnetd.
set -euo pipefail
out=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
id=w$$
S=${id}s; M=${id}m; A=${id}a
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.2
  for n in $S $M $A; do ip netns pids $n 2>/dev/null | xargs -r kill 2>/dev/null || true; ip netns del $n 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
for n in $S $M $A; do
  ip netns add $n
  ip netns exec $n sysctl -qw net.ipv4.conf.all.route_localnet=1 net.ipv4.conf.default.route_localnet=1 net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -n $n link set lo up
done
ip -n $S link add br0 type bridge
ip -n $S addr add 127.0.10.1/24 dev br0
ip -n $S link set br0 up
for pair in "$M 127.0.10.2" "$A 127.0.10.66"; do
  ns=${pair% *}; addr=${pair#* }
  ip link add ${ns}v type veth peer name ${ns}p
  ip link set ${ns}v netns $ns
  ip link set ${ns}p netns $S
  ip -n $S link set ${ns}p master br0 up
  ip -n $ns addr add $addr/24 dev ${ns}v
  ip -n $ns link set ${ns}v up
done
sleep 1

mkdir -p "$work/in"
ip netns exec $S storescp -aet PACS -od "$work/in" 104 >/dev/null 2>&1 & pids+=($!)
ip netns exec $S busybox nc -ll -p 2575 -e /bin/cat >/dev/null 2>&1 & pids+=($!)
ip netns exec $S busybox nc -ll -p 23 -e /usr/sbin/telnetd --exec-login="$here/login.sh" >/dev/null 2>&1 & pids+=($!)
ip netns exec $S tcpdump -i br0 -U -s 0 -w "$out" 'tcp or udp' >/dev/null 2>&1 & tcpd=$!
for _ in $(seq 50); do [ -s "$out" ] && break; sleep 0.1; done
sleep 1

# A secondary-capture image whose patient fields are canaries (must never reach Ward's outputs).
cat > "$work/img.dump" <<'DUMP'
(0008,0016) UI =SecondaryCaptureImageStorage
(0008,0018) UI [1.2.826.0.1.3680043.9.7133.1.1]
(0008,0060) CS [OT]
(0010,0010) PN [CANARYSURNAME^CANARYGIVEN]
(0010,0020) LO [CANARYID4711]
(0020,000d) UI [1.2.826.0.1.3680043.9.7133.1]
(0020,000e) UI [1.2.826.0.1.3680043.9.7133.1.2]
DUMP
dump2dcm +te -F "$work/img.dump" "$work/img.dcm" >/dev/null 2>&1 || dump2dcm "$work/img.dump" "$work/img.dcm"

hl7() { # one ORU^R01 with a PID of canaries and a heart rate, MLLP-framed
  printf '\x0bMSH|^~\\&|MONITOR|ICU|PACS|HOSP|20260105080000||ORU^R01|%s|P|2.5.1\rPID|1||CANARYID4711^^^HOSP^MR||CANARYSURNAME^CANARYGIVEN||19700101|F\rOBX|1|NM|8867-4^Heart rate^LN||%s|/min|||||F\r\x1c\r' "$1" "$2" \
    | ip netns exec $M busybox nc -w 2 127.0.10.1 2575 >/dev/null || true
}

normal() {
  for i in 1 2; do
    ip netns exec $M echoscu -aet MODALITY -aec PACS 127.0.10.1 104
    ip netns exec $M storescu -aet MODALITY -aec PACS 127.0.10.1 104 "$work/img.dcm"
    hl7 "C$i" $((70 + i))
    sleep 0.3
  done
}

attack() {
  normal
  # An unknown DICOM client (AE title never seen at the PACS).
  ip netns exec $M echoscu -aet ROGUE -aec PACS 127.0.10.1 104
  # A port scan.
  ip netns exec $A nmap -n -Pn -sT -p 1-200 --max-retries 0 127.0.10.1 >/dev/null
  # A telnet login to the PACS's management console.
  { sleep 1; printf 'root\r\n'; sleep 1; printf 'secret123\r\n'; sleep 1; printf 'ls\r\n'; sleep 1; } \
    | ip netns exec $A busybox telnet 127.0.10.1 23 >/dev/null 2>&1 || true
}

wait_for() { # FILE: up to 5 minutes
  for _ in $(seq 1500); do [ -e "$1" ] && return 0; sleep 0.2; done
  echo "scenario: gave up waiting for $1" >&2; return 1
}
if [ -n "${SCENARIO_PAUSE:-}" ]; then
  echo "$S" > "$out.ready"
  wait_for "$out.go"
fi

: > "$out.marks"
for phase in "$@"; do
  echo "$phase $(date +%s.%N)" >> "$out.marks"
  "$phase"
  sleep 1
done
sleep 1
if [ -n "${SCENARIO_PAUSE:-}" ]; then
  : > "$out.done"
  wait_for "$out.release"
fi
kill -INT $tcpd; wait $tcpd || true
