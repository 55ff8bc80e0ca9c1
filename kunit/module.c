// SPDX-License-Identifier: GPL-2.0
/*
 * siphelper_kunit.ko: the KUnit suites of siphelper. Each suite is its own
 * file in kunit/; this one only carries the module information.
 */
#include <linux/module.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit suites for siphelper");
