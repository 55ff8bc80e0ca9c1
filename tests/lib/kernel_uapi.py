# SPDX-License-Identifier: GPL-2.0
"""The kernel's own netlink, genetlink, nfnetlink, ctnetlink and ethtool
numbers for the Python tests, read from the uapi headers installed in
/usr/include when imported (tests/lib/uapi.py parses them as it parses
siphelper's): the tests carry no copy of them.

    from kernel_uapi import NLM_F_REQUEST, CTA_EXPECT_MASTER
"""
import uapi

HEADERS = ("linux/netlink.h", "linux/genetlink.h", "linux/sched.h",
           "linux/netfilter/nfnetlink.h",
           "linux/netfilter/nfnetlink_conntrack.h",
           "linux/ethtool.h", "linux/sockios.h")

globals().update(vars(uapi.kernel(*HEADERS)))

# include/linux/socket.h, which is not exported to userspace
SOL_NETLINK = 270
# umount2(2)'s flag, from include/linux/fs.h, which is not exported either
# (glibc's <sys/mount.h> repeats it as an enum)
MNT_DETACH = 2
