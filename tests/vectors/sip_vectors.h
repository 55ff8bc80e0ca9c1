/* SPDX-License-Identifier: GPL-2.0 */
/*
 * siphelper: test vectors for the SIP/SDP core, shared by the GoogleTest
 * unit tests (userspace) and the KUnit suite siphelper_core (kernel).
 *
 * Each vector is one message, a NAT mapping and the expected result: an
 * error from parse or plan, or the exact rewritten bytes. shp_vector_run()
 * checks the vector and the properties every rewrite must have: the output
 * re-parses, its Content-Length equals its body length, and planning the
 * output again with the same context yields no edits.
 */
#ifndef SHP_SIP_VECTORS_H
#define SHP_SIP_VECTORS_H

#include "../../kmod/core/shp_sip.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SHP_VEC_MEDIA	4

struct shp_vector {
	const char *name;
	const char *in;
	u8 dir;			/* enum shp_dir */
	bool stream;		/* parse as TCP */
	const char *priv_ip;
	u16 priv_port;
	const char *pub_ip;
	u16 pub_port;
	u16 adv_priv_port;	/* the advertised port's pinhole; 0 none */
	u16 adv_pub_port;
	const char *media_pub_ip;	/* NULL: pub_ip */
	u16 media_port[SHP_VEC_MEDIA];
	u16 rtcp_port[SHP_VEC_MEDIA];
	int err;		/* expected -SHP_E_* from parse or plan */
	const char *out;	/* expected output; NULL: unchanged */
};

extern const struct shp_vector shp_vectors[];
extern const unsigned int shp_n_vectors;

/* Scratch space for one run (large: allocate it, do not put on a stack). */
struct shp_vec_scratch {
	struct shp_sip_msg msg;
	struct shp_sip_msg msg2;
	struct shp_rewrite_ctx ctx;
	struct shp_plan plan;
	struct shp_plan plan2;
	int parse_ret;
	int plan_ret;
	int out_len;
	char out[SHP_MAX_MSG + 1];
};

enum shp_vec_result {
	SHP_VEC_PASS = 0,
	SHP_VEC_BAD_MAPPING,	/* the vector's addresses do not parse */
	SHP_VEC_PARSE,		/* parse result differs from expected */
	SHP_VEC_PLAN,		/* plan result differs from expected */
	SHP_VEC_APPLY,		/* apply failed */
	SHP_VEC_OUTPUT,		/* output differs from expected */
	SHP_VEC_REPARSE,	/* output does not parse */
	SHP_VEC_CLEN,		/* output Content-Length != body length */
	SHP_VEC_NOT_IDEMPOTENT,	/* rewriting the output changes it */
};

int shp_vector_ctx(const struct shp_vector *v, struct shp_rewrite_ctx *ctx);
int shp_vector_run(const struct shp_vector *v, struct shp_vec_scratch *s);
const char *shp_vector_result_name(int r);

#ifdef __cplusplus
}
#endif

#endif /* SHP_SIP_VECTORS_H */
