#!/bin/bash
# bench/kernel/scale.sh OUT.tsv: inside the benchmark VM (run.sh, 1 CPU,
# -icount), siphelper with many registrations and calls: slab memory per
# registration and per call, and the per-packet cost at that scale versus
# with 100 phones. Writes "key value" lines.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
out=$1 regs=${REGS:-20000} calls=${CALLS:-10000}
: >"$out"
put() { echo "$1 $2" | tee -a "$out"; }
topology
sysctl -qw net.netfilter.nf_conntrack_max=$((2 * regs + 10000))
sysctl -qw net.netfilter.nf_conntrack_expect_max=$((regs + 3 * calls + 10000))
# Phones beyond 40000 use the next addresses (sipflood); their answers are
# dropped in the phone namespace, so no socket queue grows.
for a in 32 33; do ns $PHONE ip addr add 192.168.0.$a/24 dev eth0; done
printf 'table ip f {\n chain in {\n  type filter hook input priority 0\n  udp sport 5060 drop\n }\n}\n' |
	ns $PHONE nft -f -
router shp

# Bytes in use in all slab caches, and objects of one cache.
slab_bytes() { awk 'NR > 2 { s += $2 * $4 } END { print s }' /proc/slabinfo; }
# Objects of one cache (via sysfs: SLUB may merge it with others of its
# size, then this counts the merged cache; deltas are what matters).
objs() { cut -d' ' -f1 "/sys/kernel/slab/$1/objects"; }
snap() { sync; echo 2 >/proc/sys/vm/drop_caches; slab_bytes; }
count() { ns $ROUTER conntrack -C; }
nexp() { ns $ROUTER conntrack -L expect 2>/dev/null | grep -c . || true; }

b0=$(snap) c0=$(objs nf_conntrack) e0=$(objs nf_conntrack_expect)
# Registrations: REGISTER out, the sink's 200 OK back (creates them).
# Phones on ports 25000+, media ports 1100+: a media port must not be a
# phone's public signalling port, which its registration holds.
flood $SERVER_IP -R -m register -n "$regs" -b 25000 -M 1100 -w 1 -r 0 >/dev/null
b1=$(snap) c1=$(objs nf_conntrack) e1=$(objs nf_conntrack_expect)
put registrations "$(nexp)"
put conntracks "$(count)"
put reg_bytes_total $(((b1 - b0) / regs))
put reg_nf_conntrack_objs "$(echo "scale=2; ($c1 - $c0) / $regs" | bc)"
put reg_nf_conntrack_expect_objs "$(echo "scale=2; ($e1 - $e0) / $regs" | bc)"
# Calls: an INVITE+SDP from the first CALLS registered phones (same flows).
flood $SERVER_IP -m invite -n "$calls" -b 25000 -M 1100 -w 1 -r 0 >/dev/null
b2=$(snap) e2=$(objs nf_conntrack_expect)
put expectations_after_calls "$(nexp)"
put call_bytes_total $(((b2 - b1) / calls))
put call_nf_conntrack_expect_objs "$(echo "scale=2; ($e2 - $e1) / $calls" | bc)"
put objsize_nf_conntrack "$(cat /sys/kernel/slab/nf_conntrack/object_size)"
put objsize_nf_conntrack_expect "$(cat /sys/kernel/slab/nf_conntrack_expect/object_size)"

# Per-packet cost (REGISTER refreshes, no answers) with all that state, from
# 100 phones and from all of them.
v=$(flood $SERVER_IP -m register -n 100 -b 25000 -M 1100 -w 1 -r 50)
put ns_per_packet_100_phones "${v##*=}"
v=$(flood $SERVER_IP -m register -n "$regs" -b 25000 -M 1100 -w 0 -r 1)
put ns_per_packet_all_phones "${v##*=}"
router shp
v=$(flood $SERVER_IP -m register -n 100 -b 25000 -M 1100 -w 1 -r 50)
put ns_per_packet_100_phones_empty_table "${v##*=}"

router fwd
