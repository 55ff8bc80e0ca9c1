// SPDX-License-Identifier: GPL-2.0
// siphelperctl nft mode over libnftnl: builds table inet siphelper from
// the plan (nft_plan.cpp) in one batch, deletes it, or reads it back.
#include "nft.hpp"

#include <array>
#include <cstring>
#include <ctime>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

namespace shp {
namespace {

template <auto Free> struct Deleter {
	template <class T> void operator()(T *p) const { Free(p); }
};
using TablePtr = std::unique_ptr<nftnl_table, Deleter<nftnl_table_free>>;
using ObjPtr = std::unique_ptr<nftnl_obj, Deleter<nftnl_obj_free>>;
using ChainPtr = std::unique_ptr<nftnl_chain, Deleter<nftnl_chain_free>>;
using RulePtr = std::unique_ptr<nftnl_rule, Deleter<nftnl_rule_free>>;
using ExprPtr = std::unique_ptr<nftnl_expr, Deleter<nftnl_expr_free>>;
using BatchPtr = std::unique_ptr<nftnl_batch, Deleter<nftnl_batch_free>>;
using IterPtr = std::unique_ptr<nftnl_expr_iter,
				Deleter<nftnl_expr_iter_destroy>>;

// One page holds the largest plan (32 entries x 2 protocols x 2 chains
// at ~200 bytes a rule), so the batch is one contiguous buffer.
constexpr uint32_t kBatchPage = 256 * 1024;

const std::string kNfTablesHint =
	"nf_tables is not available: run 'modprobe nf_tables'";

template <class T> T *checked(T *p)
{
	if (!p)
		throw std::bad_alloc();
	return p;
}

NlError nft_error(int err, const std::string &what, const std::string &ext)
{
	if (err == EPERM || err == EACCES)
		return NlError(err, "permission denied");  // main explains
	if (err == EOPNOTSUPP || err == EPROTONOSUPPORT)
		return NlError(err, kNfTablesHint);
	return NlError(err, what + ": " + nl_reason(err, ext), ext);
}

// The rule expressions of `<l4> dport lo[-hi] ct helper set "<helper>"`,
// as nft itself compiles them.
void add_expr(nftnl_rule *r, ExprPtr e)
{
	nftnl_rule_add_expr(r, e.release());  // the rule owns it now
}

ExprPtr expr(const char *name)
{
	return ExprPtr(checked(nftnl_expr_alloc(name)));
}

RulePtr build_rule(const NftRule &nr)
{
	RulePtr r(checked(nftnl_rule_alloc()));
	nftnl_rule_set_u32(r.get(), NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, kNftTable);
	nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, nr.chain.c_str());

	auto meta = expr("meta");
	nftnl_expr_set_u32(meta.get(), NFTNL_EXPR_META_KEY, NFT_META_L4PROTO);
	nftnl_expr_set_u32(meta.get(), NFTNL_EXPR_META_DREG, NFT_REG_1);
	add_expr(r.get(), std::move(meta));

	auto l4 = expr("cmp");
	nftnl_expr_set_u32(l4.get(), NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(l4.get(), NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
	nftnl_expr_set_u8(l4.get(), NFTNL_EXPR_CMP_DATA, nr.l4proto);
	add_expr(r.get(), std::move(l4));

	auto dport = expr("payload");
	nftnl_expr_set_u32(dport.get(), NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_expr_set_u32(dport.get(), NFTNL_EXPR_PAYLOAD_BASE,
			   NFT_PAYLOAD_TRANSPORT_HEADER);
	nftnl_expr_set_u32(dport.get(), NFTNL_EXPR_PAYLOAD_OFFSET, 2);
	nftnl_expr_set_u32(dport.get(), NFTNL_EXPR_PAYLOAD_LEN, 2);
	add_expr(r.get(), std::move(dport));

	uint16_t lo = htons(nr.lo), hi = htons(nr.hi);
	if (nr.lo == nr.hi) {
		auto eq = expr("cmp");
		nftnl_expr_set_u32(eq.get(), NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(eq.get(), NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
		nftnl_expr_set(eq.get(), NFTNL_EXPR_CMP_DATA, &lo, sizeof(lo));
		add_expr(r.get(), std::move(eq));
	} else {
		auto range = expr("range");
		nftnl_expr_set_u32(range.get(), NFTNL_EXPR_RANGE_SREG,
				   NFT_REG_1);
		nftnl_expr_set_u32(range.get(), NFTNL_EXPR_RANGE_OP,
				   NFT_RANGE_EQ);
		nftnl_expr_set(range.get(), NFTNL_EXPR_RANGE_FROM_DATA, &lo,
			       sizeof(lo));
		nftnl_expr_set(range.get(), NFTNL_EXPR_RANGE_TO_DATA, &hi,
			       sizeof(hi));
		add_expr(r.get(), std::move(range));
	}

	auto ref = expr("objref");
	nftnl_expr_set_u32(ref.get(), NFTNL_EXPR_OBJREF_IMM_TYPE,
			   NFT_OBJECT_CT_HELPER);
	nftnl_expr_set_str(ref.get(), NFTNL_EXPR_OBJREF_IMM_NAME,
			   nr.helper.c_str());
	add_expr(r.get(), std::move(ref));
	return r;
}

// The inverse of build_rule: nullopt for a rule of any other form.
std::optional<NftRule> parse_rule(nftnl_rule *r)
{
	enum { kIdle, kL4, kPort } want = kIdle;
	std::optional<uint8_t> l4;
	std::optional<std::pair<uint16_t, uint16_t>> ports;
	std::optional<std::string> helper;
	IterPtr it(checked(nftnl_expr_iter_create(r)));
	for (nftnl_expr *e = nftnl_expr_iter_next(it.get()); e;
	     e = nftnl_expr_iter_next(it.get())) {
		std::string name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
		uint32_t len = 0;
		if (name == "meta" && want == kIdle &&
		    nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY) ==
			    NFT_META_L4PROTO) {
			want = kL4;
		} else if (name == "payload" &&
			   nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE) ==
				   NFT_PAYLOAD_TRANSPORT_HEADER &&
			   nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET) == 2 &&
			   nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN) == 2) {
			want = kPort;
		} else if (name == "cmp" &&
			   nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP) ==
				   NFT_CMP_EQ) {
			auto *d = static_cast<const uint8_t *>(
				nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len));
			if (want == kL4 && len == 1) {
				l4 = d[0];
			} else if (want == kPort && len == 2) {
				uint16_t p;
				memcpy(&p, d, 2);
				ports = {ntohs(p), ntohs(p)};
			} else {
				return std::nullopt;
			}
			want = kIdle;
		} else if (name == "range" && want == kPort &&
			   nftnl_expr_get_u32(e, NFTNL_EXPR_RANGE_OP) ==
				   NFT_RANGE_EQ) {
			uint32_t flen = 0, tlen = 0;
			auto *f = nftnl_expr_get(e, NFTNL_EXPR_RANGE_FROM_DATA,
						 &flen);
			auto *t = nftnl_expr_get(e, NFTNL_EXPR_RANGE_TO_DATA,
						 &tlen);
			if (flen != 2 || tlen != 2)
				return std::nullopt;
			uint16_t a, b;
			memcpy(&a, f, 2);
			memcpy(&b, t, 2);
			ports = {ntohs(a), ntohs(b)};
			want = kIdle;
		} else if (name == "objref" &&
			   nftnl_expr_get_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE) ==
				   NFT_OBJECT_CT_HELPER) {
			helper = nftnl_expr_get_str(e,
						    NFTNL_EXPR_OBJREF_IMM_NAME);
		} else {
			return std::nullopt;
		}
	}
	if (!l4 || !ports || !helper ||
	    (*l4 != IPPROTO_UDP && *l4 != IPPROTO_TCP))
		return std::nullopt;
	return NftRule{nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), *l4,
		       ports->first, ports->second, *helper};
}

TablePtr make_table()
{
	TablePtr t(checked(nftnl_table_alloc()));
	nftnl_table_set_u32(t.get(), NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, kNftTable);
	return t;
}

// A batch under construction: each message is remembered by sequence
// number so an error names what failed.
class Batch {
public:
	explicit Batch(uint32_t &seq)
		: b_(checked(nftnl_batch_alloc(kBatchPage,
					       MNL_SOCKET_BUFFER_SIZE))),
		  seq_(seq)
	{
		nftnl_batch_begin(buf(), seq_++);
		next();
	}
	nlmsghdr *add(uint16_t type, uint16_t flags, std::string what)
	{
		uint32_t s = seq_++;
		what_[s] = std::move(what);
		return nftnl_nlmsg_build_hdr(buf(), type, NFPROTO_INET,
					     flags | NLM_F_ACK, s);
	}
	void next()
	{
		if (nftnl_batch_update(b_.get()) < 0)
			throw std::runtime_error("nft batch too large");
	}
	void finish()
	{
		nftnl_batch_end(buf(), seq_++);
		next();
		if (nftnl_batch_iovec_len(b_.get()) != 1)
			throw std::runtime_error("nft batch too large");
	}
	// The one page (finish() checked) as an iovec.
	iovec iov()
	{
		iovec v{};
		nftnl_batch_iovec(b_.get(), &v, 1);
		return v;
	}
	size_t messages() const { return what_.size(); }
	const std::string &what(uint32_t s)
	{
		static const std::string none = "the nft transaction";
		auto it = what_.find(s);
		return it == what_.end() ? none : it->second;
	}

private:
	char *buf() { return static_cast<char *>(nftnl_batch_buffer(b_.get())); }
	BatchPtr b_;
	uint32_t &seq_;
	std::map<uint32_t, std::string> what_;
};

} // namespace

// nf_tables answers on NETLINK_NETFILTER; a kernel without nfnetlink has
// no such protocol.
static NlSocket open_nfnetlink()
{
	try {
		return NlSocket(NETLINK_NETFILTER, "netfilter");
	} catch (const NlError &e) {
		if (e.err == EPROTONOSUPPORT)
			throw NlError(e.err, kNfTablesHint);
		throw;
	}
}

Nft::Nft() : sock_(open_nfnetlink())
{
}

// Send a batch and collect every answer. The kernel processes a batch
// synchronously inside sendmsg(), so all acks are queued when it returns
// (the way nft reads them too). Every message asked for an ack, so a
// success is an ack for each of them.
static void talk(NlSocket &sock, Batch &b)
{
	iovec v = b.iov();
	sock.send(v.iov_base, v.iov_len);
	std::optional<NlError> first;
	size_t acks = sock.read_acks([&](uint32_t seq, int err,
					 const std::string &ext) {
		if (!first)  // the first is the cause
			first = nft_error(err, b.what(seq), ext);
	});
	if (first)
		throw *first;
	if (acks != b.messages())
		throw NlError(EPROTO, "nftables confirmed " +
				      std::to_string(acks) + " of " +
				      std::to_string(b.messages()) +
				      " messages: check 'nft list table inet "
				      "siphelper'");
}

void Nft::install(const NftPlan &plan)
{
	Batch b(sock_.seq());
	auto table = make_table();
	// Add, delete, add: an existing table is replaced and a missing one
	// created, in the same transaction (DESTROYTABLE needs 6.3).
	nftnl_table_nlmsg_build_payload(
		b.add(NFT_MSG_NEWTABLE, NLM_F_CREATE, "creating the table"),
		table.get());
	b.next();
	nftnl_table_nlmsg_build_payload(
		b.add(NFT_MSG_DELTABLE, 0, "replacing the table"), table.get());
	b.next();
	nftnl_table_nlmsg_build_payload(
		b.add(NFT_MSG_NEWTABLE, NLM_F_CREATE,
		      "creating table inet siphelper"),
		table.get());
	b.next();
	for (const auto &h : plan.helpers) {
		ObjPtr o(checked(nftnl_obj_alloc()));
		nftnl_obj_set_u32(o.get(), NFTNL_OBJ_FAMILY, NFPROTO_INET);
		nftnl_obj_set_str(o.get(), NFTNL_OBJ_TABLE, kNftTable);
		nftnl_obj_set_str(o.get(), NFTNL_OBJ_NAME, h.name.c_str());
		nftnl_obj_set_u32(o.get(), NFTNL_OBJ_TYPE, NFT_OBJECT_CT_HELPER);
		nftnl_obj_set_str(o.get(), NFTNL_OBJ_CT_HELPER_NAME,
				  kNftHelperType);
		nftnl_obj_set_u16(o.get(), NFTNL_OBJ_CT_HELPER_L3PROTO,
				  NFPROTO_INET);
		nftnl_obj_set_u8(o.get(), NFTNL_OBJ_CT_HELPER_L4PROTO,
				 h.l4proto);
		nftnl_obj_nlmsg_build_payload(
			b.add(NFT_MSG_NEWOBJ, NLM_F_CREATE | NLM_F_EXCL,
			      "creating ct helper \"" + h.name +
				      "\" of type \"siphelper\" (is the "
				      "siphelper module loaded?)"),
			o.get());
		b.next();
	}
	for (const auto &c : plan.chains) {
		ChainPtr ch(checked(nftnl_chain_alloc()));
		nftnl_chain_set_u32(ch.get(), NFTNL_CHAIN_FAMILY, NFPROTO_INET);
		nftnl_chain_set_str(ch.get(), NFTNL_CHAIN_TABLE, kNftTable);
		nftnl_chain_set_str(ch.get(), NFTNL_CHAIN_NAME, c.name.c_str());
		nftnl_chain_set_str(ch.get(), NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(ch.get(), NFTNL_CHAIN_HOOKNUM,
				    c.hook == "output" ? NF_INET_LOCAL_OUT :
							 NF_INET_PRE_ROUTING);
		nftnl_chain_set_s32(ch.get(), NFTNL_CHAIN_PRIO, c.priority);
		nftnl_chain_nlmsg_build_payload(
			b.add(NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL,
			      "creating chain " + c.name),
			ch.get());
		b.next();
	}
	for (const auto &nr : plan.rules) {
		auto r = build_rule(nr);
		nftnl_rule_nlmsg_build_payload(
			b.add(NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND,
			      "adding rule '" + nft_rule_text(nr) +
				      "' to chain " + nr.chain),
			r.get());
		b.next();
	}
	b.finish();
	talk(sock_, b);
}

bool Nft::remove()
{
	Batch b(sock_.seq());
	auto table = make_table();
	nftnl_table_nlmsg_build_payload(
		b.add(NFT_MSG_DELTABLE, 0, "deleting table inet siphelper"),
		table.get());
	b.next();
	b.finish();
	try {
		talk(sock_, b);
	} catch (const NlError &e) {
		if (e.err == ENOENT)
			return false;
		throw;
	}
	return true;
}

NftState Nft::state()
{
	NftState st;
	std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
	auto table = make_table();
	nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETTABLE,
					      NFPROTO_INET, NLM_F_ACK, ++sock_.seq());
	nftnl_table_nlmsg_build_payload(nlh, table.get());
	try {
		sock_.request(nlh, [](const nlmsghdr *) {});
	} catch (const NlError &e) {
		if (e.err == ENOENT)
			return st;
		// a missing nfnetlink subsystem answers EINVAL to a get
		if (e.err == EINVAL)
			throw NlError(e.err, kNfTablesHint);
		throw nft_error(e.err, "reading table inet siphelper",
				e.extack);
	}
	st.installed = true;

	RulePtr filter(checked(nftnl_rule_alloc()));
	nftnl_rule_set_str(filter.get(), NFTNL_RULE_TABLE, kNftTable);
	nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETRULE, NFPROTO_INET,
				    NLM_F_DUMP, ++sock_.seq());
	nftnl_rule_nlmsg_build_payload(nlh, filter.get());
	try {
		sock_.request(nlh, [&st](const nlmsghdr *m) {
			RulePtr r(checked(nftnl_rule_alloc()));
			if (nftnl_rule_nlmsg_parse(m, r.get()) < 0)
				return;
			if (std::string(nftnl_rule_get_str(
				    r.get(), NFTNL_RULE_TABLE)) != kNftTable)
				return;
			if (auto nr = parse_rule(r.get()))
				st.rules.push_back(*nr);
			else
				st.foreign++;
		});
	} catch (const NlError &e) {
		throw nft_error(e.err, "listing the rules of table inet "
				       "siphelper", e.extack);
	}
	return st;
}

void run_nft(const Invocation &inv, Client &c)
{
	Nft nft;
	switch (inv.cmd) {
	case Cmd::kNftInstall: {
		Config cfg = c.get_config();
		nft.install(nft_plan(cfg.ports));
		// The rules are in place first, so no flow goes unassigned.
		ConfigPatch p;
		p.auto_assign = false;
		c.set_config(p);
		std::cout << "installed table inet siphelper for ports "
			  << format_ports(cfg.ports) << "; auto-assign off\n";
		break;
	}
	case Cmd::kNftRemove: {
		// Auto-assign first: flows stay covered while the table goes.
		ConfigPatch p;
		p.auto_assign = true;
		c.set_config(p);
		bool was = nft.remove();
		std::cout << (was ? "removed table inet siphelper"
				  : "table inet siphelper was not installed")
			  << "; auto-assign on\n";
		break;
	}
	default: {
		Config cfg = c.get_config();
		std::cout << format_nft_state(nft.state(), cfg, inv.json);
		break;
	}
	}
}

void sync_nft_ports(Client &c)
{
	// No nftables (or no table) means there is nothing to keep in step.
	std::optional<Nft> nft;
	NftState st;
	try {
		nft.emplace();
		st = nft->state();
	} catch (const NlError &) {
		return;
	}
	Config cfg = c.get_config();
	if (!st.installed || nft_in_sync(st, cfg.ports))
		return;
	try {
		nft->install(nft_plan(cfg.ports));
	} catch (const NlError &e) {
		throw NlError(e.err, std::string("ports set, but updating table "
						 "inet siphelper failed: ") +
					     e.what() +
					     ": run 'siphelperctl nft install'");
	}
	std::cout << "updated table inet siphelper for ports "
		  << format_ports(cfg.ports) << "\n";
}

} // namespace shp
