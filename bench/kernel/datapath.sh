#!/bin/bash
# bench/kernel/datapath.sh OUT.tsv: inside the benchmark VM (run.sh), the
# same SIP mix through each router configuration (lib.sh router), UDP and
# TCP, then non-SIP UDP with and without siphelper (in its modes). Writes
# lines "traffic config ns_per_packet helper_cts expectations" (guest ns
# under -icount = guest instructions). PARTS (default "sip plain") picks
# the parts, e.g. PARTS=plain to iterate on the non-SIP overhead.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
out=$1 phones=${PHONES:-1000} rounds=${ROUNDS:-4} reps=${REPS:-1}
parts=${PARTS:-sip plain}
: >"$out"
topology
measure() {	# measure TRAFFIC CONFIG DEST FLOOD-ARGS...
	local traffic=$1 config=$2 dst=$3 r v h e
	shift 3
	for r in $(seq "$reps"); do
		router "$config"
		# let deferred work of the reconfiguration (RCU callbacks,
		# workqueues) finish outside the measured window
		sleep 1
		v=$(flood "$dst" -n "$phones" -r "$rounds" "$@")
		# Evidence that the helper worked: conntracks with a helper,
		# expectations left.
		h=$(ns $ROUTER conntrack -L 2>/dev/null | grep -c helper= || true)
		e=$(ns $ROUTER conntrack -L expect 2>/dev/null | grep -c . || true)
		echo "$traffic $config ${v##*=} $h $e" | tee -a "$out"
	done
}
for proto in udp tcp; do
	[[ " $parts " == *" sip "* ]] || break
	t=; [ $proto = tcp ] && t=-t
	# The direct link carries one-way UDP only (TCP handshakes over it
	# time out, cause not found), so TCP has no no-router baseline.
	[ $proto = udp ] && measure sip-$proto direct $DIRECT_IP
	for c in fwd nat intree shp shp-nft; do
		measure sip-$proto $c $SERVER_IP $t
	done
done
# Non-SIP UDP (same sizes, port 4000) through the NAT router: without
# siphelper, with it in each mode, and nft mode with its ct helper rules
# (what the rules cost is nftables', the same with the in-tree helper).
if [[ " $parts " == *" plain "* ]]; then
	measure plain-udp direct $DIRECT_IP -m plain -P 4000
	for c in fwd nat shp-default shp-router shp shp-off shp-nft; do
		measure plain-udp $c $SERVER_IP -m plain -P 4000
	done
fi
router fwd
