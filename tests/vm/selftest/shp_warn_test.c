// SPDX-License-Identifier: GPL-2.0
/*
 * A throwaway module that triggers a WARN when loaded: the harness
 * self-test loads it and requires the splat detector to fail the run.
 */
#include <linux/module.h>
#include <linux/bug.h>

static int __init shp_warn_test_init(void)
{
	WARN(1, "siphelper harness self-test: deliberate warning\n");
	return 0;
}

static void __exit shp_warn_test_exit(void)
{
}

module_init(shp_warn_test_init);
module_exit(shp_warn_test_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("siphelper test harness: a module that warns");
