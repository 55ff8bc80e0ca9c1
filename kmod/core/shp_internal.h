/* SPDX-License-Identifier: GPL-2.0 */
/*
 * siphelper core: helpers shared by the core's .c files. Everything here
 * is static inline so that the files can also be compiled as one unit
 * (the KUnit module #includes them all).
 */
#ifndef SHP_INTERNAL_H
#define SHP_INTERNAL_H

#include "shp_sip.h"

static inline bool shp_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline bool shp_is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool shp_is_alnum(char c)
{
	return shp_is_digit(c) || shp_is_alpha(c);
}

static inline int shp_hexval(char c)
{
	if (shp_is_digit(c))
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* SP / HT */
static inline bool shp_is_ws(char c)
{
	return c == ' ' || c == '\t';
}

/* linear white space, including the CR/LF of folded header lines */
static inline bool shp_is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

#define SHP_C_TOKEN	1	/* RFC 3261 token character */
#define SHP_C_HOST	2	/* host name character (alnum - . _) */

/* character classes; bytes >= 0x80 are in no class */
static const u8 shp_ctype[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 1, 1, 0, 3, 3, 0,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 0, 0,
	0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 3,
	1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 1, 0,
};

static inline bool shp_is_token(char c)
{
	return shp_ctype[(u8)c] & SHP_C_TOKEN;
}

static inline bool shp_is_hostc(char c)
{
	return shp_ctype[(u8)c] & SHP_C_HOST;
}

/* lower-case ASCII name (letters, digits, '-', '/') vs text, any case */
static inline bool shp_ieq(const char *s, size_t n, const char *lname,
			   size_t ln)
{
	size_t i;

	if (n != ln)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c |= 0x20;
		if (c != lname[i])
			return false;
	}
	return true;
}

#define SHP_IEQ(s, n, lit)	shp_ieq((s), (n), lit, sizeof(lit) - 1)

/* case-insensitive prefix test */
static inline bool shp_iprefix(const char *s, size_t n, const char *lname,
			       size_t ln)
{
	return n >= ln && shp_ieq(s, ln, lname, ln);
}

#define SHP_IPREFIX(s, n, lit)	shp_iprefix((s), (n), lit, sizeof(lit) - 1)

static inline struct shp_span shp_mkspan(size_t off, size_t len)
{
	struct shp_span sp = { .off = (u16)off, .len = (u16)len };

	return sp;
}

#endif /* SHP_INTERNAL_H */
