# SPDX-License-Identifier: GPL-2.0
"""A reproducer, not part of `make test` (its name does not start with
test_): the in-tree nf_conntrack_sip unloaded while its calls re-INVITE
leaves expectations that point into the freed module. Run it alone:

    E2E_ARGS="tests/e2e/intree_unload_race.py" tests/e2e/vm.sh 6.12

nf_conntrack_helper_unregister() destroys the helper's expectations, then
(in nf_ct_iterate_destroy(), after net_ns_barrier() and synchronize_net())
detaches the helper from the conntracks. SIP packets in between still
reach the helper, which makes new expectations whose ->helper (and, with
nf_nat_sip, ->expectfn) point into the module being unloaded. Listing them
afterwards faults in ctnetlink_exp_dump_expect() (6.1.0-56: page fault in
strnlen; 6.12.117: kernel BUG at lib/string_helpers.c, fortify); a media
packet matching one would call freed code. On a kernel with the bug the VM
run fails with that splat; on a fixed kernel the test passes.
docs/reliability.md ("Found") has the figures; siphelper closes the same
window in its own unload (shp_helpers_going, kmod/helper.c)."""
import topology as t
from conftest import NAT_MODULES, expectations, modprobe, rmmod
from bulk_calls import INTREE_5070, SRV_MEDIA, Traffic, calls  # noqa: F401

ROUNDS = 5


def test_intree_unload_leaves_no_expectation(net, calls):
    modprobe(*NAT_MODULES)
    theirs = calls(100, sig=42000, media=12006, srv_port=5070,
                   srv_media=SRV_MEDIA + 1)
    for k in range(ROUNDS):
        modprobe("nf_conntrack_sip")
        modprobe("nf_nat_sip")
        t.nft(t.ROUTER, INTREE_5070)
        theirs.signal()
        load = Traffic(theirs)      # media and re-INVITEs on every call
        load.start()
        load.wait_rounds(2)
        t.nsexec(t.ROUTER, "nft delete table inet shp_intree")
        rmmod("nf_nat_sip", "nf_conntrack_sip")
        load.wait_rounds(2)
        load.stop()
        # faults here on an affected kernel (the helper's name is read)
        left = expectations()
        assert left.count("proto=") == 0, (k, left[:2000])
        t.flush()
