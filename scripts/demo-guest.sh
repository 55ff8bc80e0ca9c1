#!/bin/sh
# The demo's guest side (runs inside the VM).
ko=$1
step() { printf '\n=== %s\n' "$*"; }
step "load netfilter and siphelper"
modprobe -a nf_conntrack nf_nat nf_tables
# The demo's router is a network namespace; by default auto-assign is on
# in the initial one only (where a real router routes): all namespaces.
insmod "$ko" auto_assign=all
lsmod | grep -E '^(siphelper|nf_conntrack|nf_nat) '
step "defaults (RouterOS names: ports, sip-timeout, sip-direct-media)"
for p in ports sip_timeout direct_media auto_assign drop_malformed; do
	printf '  %-15s %s\n' "$p" "$(cat /sys/module/siphelper/parameters/$p)"
done
step "the conntrack helper 'siphelper' is registered (nft ct helper object)"
nft add table inet demo
nft add ct helper inet demo sip-udp '{ type "siphelper" protocol udp; }'
nft add ct helper inet demo sip-tcp '{ type "siphelper" protocol tcp; }'
nft list table inet demo
step "side by side with the in-tree nf_conntrack_sip + nf_nat_sip"
modprobe nf_nat_sip
lsmod | grep -E '^(siphelper|nf_conntrack_sip|nf_nat_sip) '
nft delete table inet demo
rmmod nf_nat_sip nf_conntrack_sip
modprobe -a nft_chain_nat nft_masq nft_ct
python3 "$(dirname "$0")/demo_story.py"
rmmod siphelper
step "unloaded cleanly"
dmesg | grep ' siphelper: ' | sed 's/^/  /'
