#!/bin/bash
# bench/kernel/trunk.sh OUT.tsv: inside the benchmark VM (run.sh, 1 CPU,
# -icount), a PBX trunk: every call on one signalling flow (the PBX's
# 5010 to the provider's 5060). With 1, 100 and 1000 calls up on it
# (TRUNK_SIZES), the guest ns per SIP message of TRUNK_PROBE more calls'
# INVITE+SDP and BYE on the same flow, and the slab bytes the calls up
# took, for siphelper and the in-tree helper in the same boot. Writes
# lines "config calls ns_per_message slab_bytes_per_call expectations".
set -euo pipefail
. "$(dirname "$0")/lib.sh"
out=$1 sizes=${TRUNK_SIZES:-1 100 1000} probe=${TRUNK_PROBE:-200}
: >"$out"
topology
# two expectations a call, with room
sysctl -qw net.netfilter.nf_conntrack_expect_max=$((4 * 1000 + 4 * probe + 1000))
slab_bytes() { awk 'NR > 2 { s += $2 * $4 } END { print s }' /proc/slabinfo; }
snap() { sync; echo 2 >/proc/sys/vm/drop_caches; slab_bytes; }
nexp() { ns $ROUTER conntrack -L expect 2>/dev/null | grep -c . || true; }
# trunk ARGS...: sipflood as the PBX, always from port 5010 (one flow)
trunk() { flood "$SERVER_IP" -T -b 5010 "$@"; }
for c in shp intree; do
	for n in $sizes; do
		router $c
		sleep 1
		b0=$(snap)
		trunk -m invite -n "$n" -w 1 -r 0 >/dev/null
		b1=$(snap)
		e=$(nexp)
		v=$(trunk -m call -o 100000 -n "$probe" -w 0 -r 1)
		echo "$c $n ${v##*=} $(((b1 - b0) / n)) $e" | tee -a "$out"
	done
done
router fwd
