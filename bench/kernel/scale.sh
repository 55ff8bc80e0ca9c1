#!/bin/bash
# bench/kernel/scale.sh OUT.tsv: inside the benchmark VM (run.sh, 1 CPU,
# -icount), siphelper with many registrations and calls: slab memory per
# registration and per call, and the per-packet cost at that scale versus
# with 100 phones. Writes "key value" lines.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
out=$1 regs=${REGS:-100000} calls=${CALLS:-10000}
: >"$out"
put() { echo "$1 $2" | tee -a "$out"; }
pow2() { local n=65536; while [ $n -lt "$1" ]; do n=$((n * 2)); done; echo $n; }
# Sized like a router for this many flows: conntrack buckets >= 2 per
# registration (both directions hashed), expectation buckets >= one per
# expectation. The default expectation hash is conntrack buckets / 256
# (256 here), which would make every expectation insert and lookup walk
# a chain of hundreds.
ct_buckets=$(pow2 $((2 * regs))) exp_buckets=$(pow2 $((regs + 2 * calls)))
modprobe nf_conntrack hashsize="$ct_buckets" expect_hashsize="$exp_buckets"
topology
sysctl -qw net.netfilter.nf_conntrack_max=$((2 * regs + 10000))
sysctl -qw net.netfilter.nf_conntrack_expect_max=$((regs + 3 * calls + 10000))
put conntrack_buckets "$(cat /proc/sys/net/netfilter/nf_conntrack_buckets)"
put expect_buckets "$(cat /sys/module/nf_conntrack/parameters/expect_hashsize)"
# One public address has 64 511 ports towards one registrar address:port,
# and a registration expectation is keyed on the registrar address and the
# public port. So phones come in groups of 40 000 (one source address,
# ports 25000-64999, kept by the NAT), group g registering with registrar
# address 212.19.6.(1+g). Answers to the phones are dropped in the phone
# namespace, so no socket queue grows.
groups=$(((regs + 39999) / 40000))
srv_mac=$(ns $SERVER cat /sys/class/net/eth0/address)
for g in $(seq 1 $((groups - 1))); do
	ns $PHONE ip addr add 192.168.0.$((31 + g))/24 dev eth0
	ns $SERVER ip addr add 212.19.6.$((1 + g))/24 dev eth0
	ns $ROUTER ip neigh replace 212.19.6.$((1 + g)) lladdr "$srv_mac" dev wan0
done
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
# group G ARGS...: sipflood for the phones of group G (their address, their
# registrar, ports from 25000; media ports 1100+, apart from the public
# signalling ports, which the registrations hold).
group() {
	local g=$1 n
	shift
	n=$((regs - 40000 * g))
	[ $n -le 40000 ] || n=40000
	flood 212.19.6.$((1 + g)) -s 192.168.0.$((31 + g)) -b 25000 -M 1100 \
		-n $n "$@"
}

b0=$(snap) c0=$(objs nf_conntrack) e0=$(objs nf_conntrack_expect)
# Registrations: REGISTER out, the sink's 200 OK back (creates them).
t0=$(date +%s%N)
for g in $(seq 0 $((groups - 1))); do
	group "$g" -R -m register -w 1 -r 0 >/dev/null
done
t1=$(date +%s%N)
b1=$(snap) c1=$(objs nf_conntrack) e1=$(objs nf_conntrack_expect)
put registrations "$(nexp)"
put conntracks "$(count)"
put reg_guest_s "$(((t1 - t0) / 1000000000))"
put reg_bytes_total $(((b1 - b0) / regs))
put reg_nf_conntrack_objs "$(echo "scale=2; ($c1 - $c0) / $regs" | bc)"
put reg_nf_conntrack_expect_objs "$(echo "scale=2; ($e1 - $e0) / $regs" | bc)"
# Calls: an INVITE+SDP from the first CALLS registered phones (same flows).
flood 212.19.6.1 -m invite -n "$calls" -b 25000 -M 1100 -w 1 -r 0 >/dev/null
b2=$(snap) e2=$(objs nf_conntrack_expect)
put calls "$calls"
put expectations_after_calls "$(nexp)"
put call_bytes_total $(((b2 - b1) / calls))
put call_nf_conntrack_expect_objs "$(echo "scale=2; ($e2 - $e1) / $calls" | bc)"
put objsize_nf_conntrack "$(cat /sys/kernel/slab/nf_conntrack/object_size)"
put objsize_nf_conntrack_expect "$(cat /sys/kernel/slab/nf_conntrack_expect/object_size)"

# Per-packet cost with all that state: REGISTER refreshes (no answers) from
# 100 phones and from all of them in turn; INVITE re-offers from 100 phones
# in a call (each replaces the call's RTP/RTCP expectations: expectation
# hash and nf_conntrack_expect_lock). Then the same from 100 phones on an
# empty table.
v=$(flood 212.19.6.1 -m register -n 100 -b 25000 -M 1100 -w 1 -r 50)
put ns_per_packet_100_phones "${v##*=}"
# (A warm-up round first: a fresh socket's first send costs the phone's
# stack more, which is not the router's table.)
sum=0
for g in $(seq 0 $((groups - 1))); do
	v=$(group "$g" -m register -w 1 -r 1)
	sum=$(echo "$sum + ${v##*=} * $(echo "$v" | sed 's/packets=\([0-9]*\).*/\1/')" | bc)
done
put ns_per_packet_all_phones "$(echo "$sum / $regs" | bc)"
v=$(flood 212.19.6.1 -m invite -n 100 -b 25000 -M 1100 -w 1 -r 20)
put ns_per_invite_100_calls "${v##*=}"
router shp
v=$(flood 212.19.6.1 -m register -n 100 -b 25000 -M 1100 -w 1 -r 50)
put ns_per_packet_100_phones_empty_table "${v##*=}"
v=$(flood 212.19.6.1 -m invite -n 100 -b 25000 -M 1100 -w 1 -r 20)
put ns_per_invite_100_calls_empty_table "${v##*=}"

router fwd
