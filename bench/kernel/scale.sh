#!/bin/bash
# bench/kernel/scale.sh OUT.tsv: inside the benchmark VM (run.sh, 2 CPUs),
# siphelper with many registrations and calls: slab memory per
# registration and per call, the per-packet cost at that scale versus with
# 100 phones, and two senders on two CPUs. Writes "key value" lines.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
out=$1 regs=${REGS:-100000} calls=${CALLS:-10000}
: >"$out"
put() { echo "$1 $2" | tee -a "$out"; }
topology
sysctl -qw net.netfilter.nf_conntrack_max=$((2 * regs + 10000))
sysctl -qw net.netfilter.nf_conntrack_expect_max=$((regs + 3 * calls + 10000))
# Phones beyond 40000 use the next addresses (sipflood); their answers are
# dropped in the phone namespace, so no socket queue grows.
for a in 32 33; do ns $PHONE ip addr add 192.168.0.$a/24 dev eth0; done
printf 'table ip f { chain in { type filter hook input priority 0;
  udp sport 5060 drop; } }\n' | ns $PHONE nft -f -
router shp

# Bytes in use in all slab caches, and objects of one cache.
slab_bytes() { awk 'NR > 2 { s += $2 * $4 } END { print s }' /proc/slabinfo; }
objs() { awk -v c="$1" '$1 == c { print $2 }' /proc/slabinfo; }
snap() { sync; echo 2 >/proc/sys/vm/drop_caches; slab_bytes; }
count() { ns $ROUTER conntrack -C; }
nexp() { ns $ROUTER conntrack -L expect 2>/dev/null | grep -c . || true; }

b0=$(snap) c0=$(objs nf_conntrack) e0=$(objs nf_conntrack_expect)
# Registrations: REGISTER out, the sink's 200 OK back (creates them).
flood $SERVER_IP -R -m register -n "$regs" -b 20000 -w 1 -r 0 >/dev/null
b1=$(snap) c1=$(objs nf_conntrack) e1=$(objs nf_conntrack_expect)
put registrations "$(nexp)"
put conntracks "$(count)"
put reg_bytes_total $(((b1 - b0) / regs))
put reg_nf_conntrack_objs "$(echo "scale=2; ($c1 - $c0) / $regs" | bc)"
put reg_nf_conntrack_expect_objs "$(echo "scale=2; ($e1 - $e0) / $regs" | bc)"
# Calls: an INVITE+SDP from the first CALLS registered phones (same flows).
flood $SERVER_IP -m invite -n "$calls" -b 20000 -w 1 -r 0 >/dev/null
b2=$(snap) e2=$(objs nf_conntrack_expect)
put expectations_after_calls "$(nexp)"
put call_bytes_total $(((b2 - b1) / calls))
put call_nf_conntrack_expect_objs "$(echo "scale=2; ($e2 - $e1) / $calls" | bc)"
put objsize_nf_conntrack "$(awk '$1 == "nf_conntrack" { print $4 }' /proc/slabinfo)"
put objsize_nf_conntrack_expect "$(awk '$1 == "nf_conntrack_expect" { print $4 }' /proc/slabinfo)"

# Per-packet cost (REGISTER refreshes, no answers) with all that state, from
# 100 phones and from all of them.
v=$(flood $SERVER_IP -m register -n 100 -b 20000 -w 1 -r 50)
put ns_per_packet_100_phones "${v##*=}"
v=$(flood $SERVER_IP -m register -n "$regs" -b 20000 -w 0 -r 1)
put ns_per_packet_all_phones "${v##*=}"
router shp
v=$(flood $SERVER_IP -m register -n 100 -b 20000 -w 1 -r 50)
put ns_per_packet_100_phones_empty_table "${v##*=}"

[ "$(nproc)" -ge 2 ] || { router fwd; exit 0; }
# Two senders, one per CPU, the SIP mix from distinct phones. Guest time
# under -icount is the instructions of both CPUs one after the other, so
# with no contention the combined cost per packet stays the same.
router shp
one() { taskset -c "$1" ip netns exec $PHONE "$FLOOD" -d $SERVER_IP \
	-n 1000 -b "$2" -r 4 -w 1; }
v=$(one 0 20000); put ns_per_packet_1cpu "${v##*=}"
router shp
cpu_si() { awk '/^cpu[0-9]/ { printf "%s ", $8 }' /proc/stat; }
s0=$(cpu_si)
t0=$(date +%s%N)
one 0 20000 >/tmp/c0 & one 1 30000 >/tmp/c1 & wait
t1=$(date +%s%N)
put softirq_ticks_per_cpu_before "${s0// /,}"
s1=$(cpu_si); put softirq_ticks_per_cpu_after "${s1// /,}"
p=$(cat /tmp/c0 /tmp/c1 | sed 's/packets=\([0-9]*\).*/\1/' | paste -sd+ | bc)
put ns_per_packet_2cpu_combined $(((t1 - t0) / p))
put ns_per_packet_2cpu_each "$(sed 's/.*=//' /tmp/c0),$(sed 's/.*=//' /tmp/c1)"
router fwd
