// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite siphelper_core: the SIP/SDP core (kmod/core) in the kernel,
 * driven by the same test vectors as the userspace GoogleTest suite.
 *
 * This file is the whole test unit: it #includes the core sources and the
 * vector table, so siphelper_kunit.ko links no object shared with
 * siphelper.ko. Build it alone or from a wrapper .c file; it needs
 * -I for kmod/core and tests/vectors only through these relative paths.
 */
#include <kunit/test.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "../kmod/core/shp_addr.c"
#include "../kmod/core/shp_parse.c"
#include "../kmod/core/shp_plan.c"
#include "../kmod/core/shp_media.c"
#include "../kmod/core/shp_errors.c"
#include "../kmod/core/shp_names.c"
#include "../tests/vectors/sip_vectors.c"

static void shp_core_test_vectors(struct kunit *test)
{
	struct shp_vec_scratch *s;
	unsigned int i;

	s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, s);
	for (i = 0; i < shp_n_vectors; i++) {
		const struct shp_vector *v = &shp_vectors[i];
		int r = shp_vector_run(v, s);

		KUNIT_EXPECT_EQ_MSG(test, r, SHP_VEC_PASS,
				    "%s: %s (parse %d %s, plan %d)", v->name,
				    shp_vector_result_name(r), s->parse_ret,
				    shp_strerror(s->parse_ret), s->plan_ret);
	}
}

static void shp_core_test_seed_fields(struct kunit *test)
{
	const struct shp_vector *v = &shp_vectors[1];	/* seed_invite */
	struct shp_sip_msg *m;
	int r;

	KUNIT_ASSERT_STREQ(test, v->name, "seed_invite");
	m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, m);
	r = shp_sip_parse(v->in, strlen(v->in), false, m);
	KUNIT_ASSERT_EQ(test, r, (int)strlen(v->in));
	KUNIT_EXPECT_EQ(test, m->method, SHP_M_INVITE);
	KUNIT_EXPECT_EQ(test, m->cseq, 1U);
	KUNIT_EXPECT_EQ(test, m->n_via, 1);
	KUNIT_EXPECT_EQ(test, m->sdp.n_media, 1);
	KUNIT_EXPECT_EQ(test, m->sdp.media[0].port, 10006);
	KUNIT_EXPECT_EQ(test, m->clen, (u32)m->body.len);
}

static void shp_core_test_stream(struct kunit *test)
{
	const struct shp_vector *v = &shp_vectors[0];	/* seed_register */
	struct shp_sip_msg *m;
	size_t n = strlen(v->in), i;

	m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, m);
	for (i = 1; i < n; i++)
		KUNIT_EXPECT_EQ(test, shp_sip_parse(v->in, i, true, m),
				-SHP_E_INCOMPLETE);
	KUNIT_EXPECT_EQ(test, shp_sip_parse(v->in, n, true, m), (int)n);
}

/* The media policy of the seed INVITE's stream, and its limits. */
static void shp_core_test_media_policy(struct kunit *test)
{
	const struct shp_vector *v = &shp_vectors[1];	/* seed_invite */
	struct shp_sip_msg *m;
	struct shp_sdp_media x;
	struct shp_addr phone;

	KUNIT_ASSERT_EQ(test, shp_addr_parse("192.168.0.31", 12, &phone), 0);
	m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, m);
	KUNIT_ASSERT_GT(test, shp_sip_parse(v->in, strlen(v->in), false, m), 0);
	KUNIT_EXPECT_TRUE(test, shp_media_wanted(&m->sdp.media[0], &phone));
	x = m->sdp.media[0];
	x.port = 1023;
	KUNIT_EXPECT_FALSE(test, shp_media_wanted(&x, &phone));
	x = m->sdp.media[0];
	x.rtcp_port = 514;
	KUNIT_EXPECT_FALSE(test, shp_media_wanted(&x, &phone));
	KUNIT_EXPECT_TRUE(test, shp_media_port_possible(10006, 10036));
	KUNIT_EXPECT_FALSE(test, shp_media_port_possible(10006, 10038));
	/* the INVITE offers and starts a call; its final error rejects it */
	KUNIT_EXPECT_TRUE(test, shp_media_offer_answer(m));
	KUNIT_EXPECT_EQ(test, shp_call_step(m), SHP_CALL_STEP_INVITE);
	m->type = SHP_MSG_RESPONSE;
	m->cseq_method = SHP_M_INVITE;
	m->status = 486;
	KUNIT_EXPECT_FALSE(test, shp_media_offer_answer(m));
	KUNIT_EXPECT_EQ(test, shp_call_step(m), SHP_CALL_STEP_REJECT);
}

static struct kunit_case shp_core_test_cases[] = {
	KUNIT_CASE(shp_core_test_vectors),
	KUNIT_CASE(shp_core_test_seed_fields),
	KUNIT_CASE(shp_core_test_stream),
	KUNIT_CASE(shp_core_test_media_policy),
	{}
};

static struct kunit_suite shp_core_test_suite = {
	.name = "siphelper_core",
	.test_cases = shp_core_test_cases,
};

kunit_test_suite(shp_core_test_suite);
