/* SPDX-License-Identifier: GPL-2.0 */
/*
 * siphelper core: the few kernel/libc facilities the core uses.
 *
 * The core (the .c files in kmod/core) is plain C that compiles unchanged into the
 * kernel module and into userspace (unit tests, fuzzers, benchmarks). It
 * only needs fixed-width types, bool, size_t and memchr/memcpy/memcmp/
 * memmove/memset; everything else is written out in the core itself.
 */
#ifndef SHP_COMPAT_H
#define SHP_COMPAT_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/string.h>
#include <linux/kernel.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int16_t s16;
typedef int32_t s32;

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif
#endif

#endif /* SHP_COMPAT_H */
