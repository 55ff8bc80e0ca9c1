// SPDX-License-Identifier: GPL-2.0
/*
 * siphelper core: exact IPv4/IPv6 text <-> binary.
 *
 * Parsing is strict so that matching is exact: IPv4 is four decimal octets
 * without leading zeros (so "192.168.0.031" is not 192.168.0.31 and
 * "192.168.0.310" is no address at all); IPv6 is RFC 4291 text with at most
 * one "::" and an optional dotted IPv4 tail, hex digits of either case.
 */
#include "shp_internal.h"

static int shp_addr_parse4(const char *s, size_t len, u8 *out)
{
	size_t i = 0;
	int part;

	for (part = 0; part < 4; part++) {
		unsigned int v = 0;
		size_t start = i;

		while (i < len && shp_is_digit(s[i]) && i - start < 4) {
			v = v * 10 + (unsigned int)(s[i] - '0');
			i++;
		}
		if (i == start || i - start > 3 || v > 255)
			return -SHP_E_INVAL;
		if (i - start > 1 && s[start] == '0')
			return -SHP_E_INVAL;
		out[part] = (u8)v;
		if (part < 3) {
			if (i >= len || s[i] != '.')
				return -SHP_E_INVAL;
			i++;
		}
	}
	return i == len ? 0 : -SHP_E_INVAL;
}

static int shp_addr_parse6(const char *s, size_t len, u8 *out)
{
	u16 g[8];
	int ng = 0, dc = -1, k;
	size_t i = 0;

	if (len < 2)
		return -SHP_E_INVAL;
	if (s[0] == ':') {
		if (s[1] != ':')
			return -SHP_E_INVAL;
		dc = 0;
		i = 2;
	}
	while (i < len) {
		size_t start = i;
		unsigned int v = 0;

		while (i < len && shp_hexval(s[i]) >= 0 && i - start < 5) {
			v = v * 16 + (unsigned int)shp_hexval(s[i]);
			i++;
		}
		if (i < len && s[i] == '.') {
			u8 v4[4];

			if (ng > 6 || shp_addr_parse4(s + start, len - start,
						       v4))
				return -SHP_E_INVAL;
			g[ng++] = (u16)(v4[0] << 8 | v4[1]);
			g[ng++] = (u16)(v4[2] << 8 | v4[3]);
			i = len;
			break;
		}
		if (i == start || i - start > 4 || ng == 8)
			return -SHP_E_INVAL;
		g[ng++] = (u16)v;
		if (i == len)
			break;
		if (s[i] != ':')
			return -SHP_E_INVAL;
		i++;
		if (i < len && s[i] == ':') {
			if (dc >= 0)
				return -SHP_E_INVAL;
			dc = ng;
			i++;
		} else if (i == len) {
			return -SHP_E_INVAL;
		}
	}
	if (dc < 0 && ng != 8)
		return -SHP_E_INVAL;
	if (dc >= 0 && ng > 7)
		return -SHP_E_INVAL;
	memset(out, 0, 16);
	if (dc < 0)
		dc = ng;
	for (k = 0; k < dc; k++) {
		out[2 * k] = (u8)(g[k] >> 8);
		out[2 * k + 1] = (u8)g[k];
	}
	for (k = dc; k < ng; k++) {
		int pos = 8 - (ng - k);

		out[2 * pos] = (u8)(g[k] >> 8);
		out[2 * pos + 1] = (u8)g[k];
	}
	return 0;
}

int shp_addr_parse(const char *s, size_t len, struct shp_addr *a)
{
	size_t i;

	memset(a, 0, sizeof(*a));
	if (!len || len >= SHP_ADDR_STRLEN)
		return -SHP_E_INVAL;
	for (i = 0; i < len; i++) {
		if (s[i] == ':') {
			if (shp_addr_parse6(s, len, a->a))
				return -SHP_E_INVAL;
			a->family = 6;
			return 0;
		}
	}
	if (shp_addr_parse4(s, len, a->a)) {
		memset(a->a, 0, 4);
		return -SHP_E_INVAL;
	}
	a->family = 4;
	return 0;
}

static size_t shp_fmt_u8(unsigned int v, char *out)
{
	size_t n = 0;

	if (v >= 100)
		out[n++] = (char)('0' + v / 100);
	if (v >= 10)
		out[n++] = (char)('0' + (v / 10) % 10);
	out[n++] = (char)('0' + v % 10);
	return n;
}

static size_t shp_fmt4(const u8 *a, char *out)
{
	size_t n = 0;
	int i;

	for (i = 0; i < 4; i++) {
		if (i)
			out[n++] = '.';
		n += shp_fmt_u8(a[i], out + n);
	}
	return n;
}

static size_t shp_fmt_hex16(unsigned int v, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;
	int shift;
	bool started = false;

	for (shift = 12; shift >= 0; shift -= 4) {
		unsigned int d = (v >> shift) & 0xf;

		if (d || started || shift == 0) {
			out[n++] = hex[d];
			started = true;
		}
	}
	return n;
}

size_t shp_addr_format(const struct shp_addr *a, char *out, size_t cap)
{
	char tmp[SHP_ADDR_STRLEN];
	size_t n = 0;
	int i, best = -1, bestlen = 0, run = 0;
	u16 g[8];

	if (a->family == 4) {
		n = shp_fmt4(a->a, tmp);
	} else if (a->family == 6) {
		for (i = 0; i < 8; i++)
			g[i] = (u16)(a->a[2 * i] << 8 | a->a[2 * i + 1]);
		for (i = 0; i < 8; i++) {
			if (g[i]) {
				run = 0;
				continue;
			}
			run++;
			if (run > bestlen) {
				bestlen = run;
				best = i - run + 1;
			}
		}
		if (bestlen < 2)
			best = -1;
		if (best == 0 && bestlen == 5 && g[5] == 0xffff) {
			memcpy(tmp, "::ffff:", 7);
			n = 7 + shp_fmt4(a->a + 12, tmp + 7);
		} else {
			for (i = 0; i < 8; i++) {
				if (i == best) {
					tmp[n++] = ':';
					tmp[n++] = ':';
					i += bestlen - 1;
					continue;
				}
				if (i && i != best + bestlen)
					tmp[n++] = ':';
				n += shp_fmt_hex16(g[i], tmp + n);
			}
		}
	} else {
		return 0;
	}
	if (n > cap)
		return 0;
	memcpy(out, tmp, n);
	return n;
}

bool shp_addr_equal(const struct shp_addr *a, const struct shp_addr *b)
{
	if (a->family != b->family || !a->family)
		return false;
	return !memcmp(a->a, b->a, a->family == 4 ? 4 : 16);
}
