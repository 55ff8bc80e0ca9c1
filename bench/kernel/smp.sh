#!/bin/bash
# bench/kernel/smp.sh OUT.tsv: inside a 2-CPU VM (run.sh; plain TCG, as
# SMP guests do not boot with -icount here), siphelper with the SIP mix
# from one sender on CPU0, then from two senders on CPU0 and CPU1 at once.
# Guest time follows host time here: noisy on a shared host. Appends
# "key value" lines.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
out=$1
put() { echo "$1 $2" | tee -a "$out"; }
topology
# No global lock on the hot path: each sender's cost per packet with two
# at once stays close to one alone (if the host gives the VM two threads).
router shp
one() { taskset -c "$1" ip netns exec $PHONE "$FLOOD" -d $SERVER_IP \
	-S /run/netns/$SERVER \
	-n 1000 -b "$2" -r 4 -w 1; }
v=$(one 0 20000); put ns_per_packet_1cpu "${v##*=}"
router shp
one 0 20000 >/tmp/c0 & one 1 30000 >/tmp/c1 & wait
put ns_per_packet_2cpu_each "$(sed 's/.*=//' /tmp/c0),$(sed 's/.*=//' /tmp/c1)"
router fwd
