# Shared by bench/kernel/*.sh inside the benchmark VM: the SEED.md topology
# (as tests/e2e/topology.py) plus a direct phone-server link for the
# no-router baseline, and the router configurations. Source, do not run.
# shellcheck shell=bash
PHONE=bp_phone ROUTER=bp_router SERVER=bp_server
PHONE_IP=192.168.0.31 SERVER_IP=212.19.6.1 DIRECT_IP=10.99.0.1
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FLOOD=$repo/build/user/bench/sipflood
CTL=$repo/build/user/tools/siphelperctl/siphelperctl
KO=${KO:-}
ns() { ip netns exec "$@"; }

topology() {
	for n in $PHONE $ROUTER $SERVER; do
		ip netns del $n 2>/dev/null || true
		ip netns add $n
		ns $n ip link set lo up
	done
	ip link add lan0 netns $ROUTER type veth peer eth0 netns $PHONE
	ip link add wan0 netns $ROUTER type veth peer eth0 netns $SERVER
	ip link add eth1 netns $PHONE type veth peer eth1 netns $SERVER
	ns $PHONE ip addr add $PHONE_IP/24 dev eth0
	ns $PHONE ip addr add 10.99.0.31/24 dev eth1
	ns $SERVER ip addr add $SERVER_IP/24 dev eth0
	ns $SERVER ip addr add $DIRECT_IP/24 dev eth1
	ns $ROUTER ip addr add 192.168.0.1/24 dev lan0
	ns $ROUTER ip addr add 212.19.6.166/24 dev wan0
	for l in "$PHONE eth0" "$PHONE eth1" "$SERVER eth0" "$SERVER eth1" \
		"$ROUTER lan0" "$ROUTER wan0"; do
		# shellcheck disable=SC2086
		ns ${l% *} ip link set ${l#* } up
	done
	ns $PHONE ip route add default via 192.168.0.1
	# For plain forwarding (no masquerade) the server must reach the phones.
	ns $SERVER ip route add 192.168.0.0/16 via 212.19.6.166
	ns $ROUTER sysctl -qw net.ipv4.ip_forward=1
	# Static neighbours: no ARP in the measured path.
	ns $ROUTER ip neigh replace $PHONE_IP lladdr \
		"$(ns $PHONE cat /sys/class/net/eth0/address)" dev lan0
	ns $ROUTER ip neigh replace $SERVER_IP lladdr \
		"$(ns $SERVER cat /sys/class/net/eth0/address)" dev wan0
	ns $PHONE ip neigh replace 192.168.0.1 lladdr \
		"$(ns $ROUTER cat /sys/class/net/lan0/address)" dev eth0
	ns $PHONE ip neigh replace $DIRECT_IP lladdr \
		"$(ns $SERVER cat /sys/class/net/eth1/address)" dev eth1
	ns $SERVER ip neigh replace 212.19.6.166 lladdr \
		"$(ns $ROUTER cat /sys/class/net/wan0/address)" dev eth0
	ns $SERVER ip neigh replace 10.99.0.31 lladdr \
		"$(ns $PHONE cat /sys/class/net/eth1/address)" dev eth1
	modprobe -a nf_conntrack nf_nat nf_tables nft_chain_nat nft_masq \
		nft_ct nf_conntrack_sip nf_nat_sip
	rmmod nf_nat_sip nf_conntrack_sip || true
}

NAT='table ip nat {
  chain post { type nat hook postrouting priority 100;
    oifname "wan0" masquerade; }
}'
# ct helper objects: the in-tree "sip" (no auto-assignment on modern
# kernels) or siphelper without auto-assignment.
helper_rule() {
	printf 'table ip h {
  ct helper sip-udp { type "%s" protocol udp; }
  ct helper sip-tcp { type "%s" protocol tcp; }
  chain pre { type filter hook prerouting priority 0;
    udp dport 5060 ct helper set "sip-udp"
    tcp dport 5060 ct helper set "sip-tcp"
  }
}\n' "$1" "$1"
}

# router CONFIG: put the router in one configuration, from a clean state.
#   fwd       plain forwarding, no conntrack in the router namespace
#   nat       conntrack + masquerade, no SIP helper
#   intree    nat + nf_conntrack_sip/nf_nat_sip via an nft ct helper
#   shp       nat + siphelper, auto-assignment in every netns
#             (auto_assign=all: the phone and server netns have it too)
#   shp-default nat + siphelper with the module defaults: auto-assign in
#             the initial netns only, which this traffic does not cross
#   shp-router  nat + siphelper with the module defaults, turned on in
#             the router netns (phone/server stand for other hosts)
#   shp-off   nat + siphelper loaded with auto_assign=none, no nft rule
#   shp-nft   nat + siphelper auto_assign=none via an nft ct helper
router() {
	ns $ROUTER nft flush ruleset
	ns $ROUTER conntrack -F >/dev/null 2>&1 || true
	ns $ROUTER conntrack -F expect >/dev/null 2>&1 || true
	rmmod siphelper nf_nat_sip nf_conntrack_sip 2>/dev/null || true
	case $1 in
	fwd) return ;;
	intree) modprobe -a nf_conntrack_sip nf_nat_sip
		printf "%s\n%s\n" "$NAT" "$(helper_rule sip)" | ns $ROUTER nft -f - ;;
	shp) insmod "$KO" auto_assign=all
		echo "$NAT" | ns $ROUTER nft -f - ;;
	shp-default) insmod "$KO"
		echo "$NAT" | ns $ROUTER nft -f - ;;
	shp-router) insmod "$KO"
		ns $ROUTER "$CTL" set auto-assign yes >/dev/null
		echo "$NAT" | ns $ROUTER nft -f - ;;
	shp-off) insmod "$KO" auto_assign=none
		echo "$NAT" | ns $ROUTER nft -f - ;;
	shp-nft) insmod "$KO" auto_assign=none
		printf "%s\n%s\n" "$NAT" "$(helper_rule siphelper)" | ns $ROUTER nft -f - ;;
	*) echo "$NAT" | ns $ROUTER nft -f - ;;
	esac
}

RUN=0
# flood DEST ARGS...: one sipflood run from the phone namespace, its
# ns_per_packet on stdout. Each run gets fresh source ports (TCP
# TIME_WAIT of the previous run).
flood() {
	local dst=$1
	shift
	RUN=$((RUN + 1))
	ns $PHONE "$FLOOD" -d "$dst" -S /run/netns/$SERVER \
		-b $((20000 + (RUN % 30) * 1000)) "$@"
}
