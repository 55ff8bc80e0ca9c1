// SPDX-License-Identifier: GPL-2.0
/*
 * sipflood: replay a fixed SIP mix from many phones (one socket per source
 * port) as fast as possible and print the guest time it took. Used by
 * bench/kernel/run.sh inside the benchmark VM, in the phone namespace.
 *
 * A round = every phone sends its burst once: with -m sip the five
 * messages REGISTER, INVITE+SDP, 200 OK+SDP (the phone answering a call),
 * ACK, BYE (UDP: one sendmmsg() per phone; TCP: one write() each, NODELAY);
 * with -m register / -m invite only that message; with -m call the
 * INVITE+SDP and the BYE of one call; with -m plain the same five sizes
 * as -m sip but payload that is not SIP (non-SIP traffic).
 *
 * -T (trunk): every "phone" is a call of one PBX on one socket (source
 * port BASEPORT), so all messages share one signalling flow; -o FIRST
 * numbers the calls from FIRST (Call-IDs, media ports), so that a later
 * run adds calls to those a previous one left up.
 *
 * The sink (-S NETNS) is opened in the server namespace by this process:
 * UDP, a socket on the destination port that is never read (datagrams are
 * dropped at the full socket queue; -R instead answers every request with
 * a 200 OK echoing Via/From/To/Call-ID/CSeq/Contact, which is what creates
 * registrations); TCP, a listener whose connections are drained. The
 * sink is bound to DSTIP.
 *
 * Phone i offers RTP port MEDIAPORT + 2 * (i % 15000) (default 30000).
 * Phone i sends from SRCIP + i / 40000 (those addresses must exist in the
 * phone namespace), port BASEPORT + i % 40000.
 *
 * Output (one line): packets=N ns=T ns_per_packet=X, where T is
 * CLOCK_MONOTONIC in the guest over the measured rounds only.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXMSG	5
#define MSGLEN	1400

struct phone {
	int fd;
	char ip[INET_ADDRSTRLEN];
	int n;
	char msg[MAXMSG][MSGLEN];
	int len[MAXMSG];
};

static struct {
	int tcp, respond, phones, base, media, rounds, warmup, trunk, first;
	const char *mix, *src, *dst, *sink_ns;
	int dport;
} o = { .phones = 1000, .base = 20000, .media = 30000, .rounds = 10, .warmup = 1,
	.mix = "sip", .src = "192.168.0.31", .dst = "212.19.6.1",
	.dport = 5060 };

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "sipflood: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, ": %s\n", strerror(errno));
	va_end(ap);
	exit(1);
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Append a printf'd message to slot k, with its body and Content-Length. */
static void put(struct phone *p, const char *body, const char *fmt, ...)
{
	char *m = p->msg[p->n];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(m, MSGLEN, fmt, ap);
	va_end(ap);
	n += snprintf(m + n, MSGLEN - n, "Content-Length: %zu\r\n\r\n%s",
		      strlen(body), body);
	p->len[p->n++] = n;
}

/* Phone i: source address o.src + i / PORTS_PER_IP, port o.base + i % it. */
#define PORTS_PER_IP	40000

static void build(struct phone *p, int i)
{
	const char *tr = o.tcp ? "TCP" : "UDP", *ip = p->ip;
	int port = o.trunk ? o.base : o.base + i % PORTS_PER_IP;
	int media;

	i += o.first;
	media = o.media + 2 * (i % 15000);
	char sdp[512];

	snprintf(sdp, sizeof(sdp),
		 "v=0\r\no=%d 164445748 546426177 IN IP4 %s\r\n"
		 "s=A conversation\r\nc=IN IP4 %s\r\nt=0 0\r\n"
		 "m=audio %d RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\n"
		 "a=rtpmap:0 PCMU/8000\r\n"
		 "a=rtpmap:101 telephone-event/8000\r\n", i, ip, ip, media);
	p->n = 0;
	if (!strcmp(o.mix, "sip") || !strcmp(o.mix, "plain") ||
	    !strcmp(o.mix, "register"))
		put(p, "",
		    "REGISTER sip:avantelecom.avantele.com SIP/2.0\r\n"
		    "Via: SIP/2.0/%s %s:%d;branch=z9hG4bK10762235872%d;rport\r\n"
		    "From: \" \" <sip:%d@avantelecom.avantele.com:5060>;tag=2717716575\r\n"
		    "To: \" \" <sip:%d@avantelecom.avantele.com:5060>\r\n"
		    "Call-ID: reg-%d-62012442819438@%s\r\n"
		    "CSeq: 1 REGISTER\r\n"
		    "Contact: <sip:%d@%s:%d>\r\n"
		    "Max-Forwards: 70\r\nExpires: 3600\r\nSupported: path\r\n"
		    "User-Agent: Fanvil X3 1.3.384.1694\r\n"
		    "Allow: INVITE, ACK, OPTIONS, BYE, CANCEL, REFER, NOTIFY, INFO, PRACK, UPDATE, MESSAGE\r\n",
		    tr, ip, port, i, i, i, i, ip, i, ip, port);
	if (!strcmp(o.mix, "sip") || !strcmp(o.mix, "plain") ||
	    !strcmp(o.mix, "invite") || !strcmp(o.mix, "call"))
		put(p, sdp,
		    "INVITE sip:*43@avantelecom.avantele.com;user=phone SIP/2.0\r\n"
		    "Via: SIP/2.0/%s %s:%d;branch=z9hG4bK18413318663%d;rport\r\n"
		    "From: \" \" <sip:%d@avantelecom.avantele.com:5060>;tag=908623127\r\n"
		    "To: \"**43\" <sip:*43@avantelecom.avantele.com;user=phone>\r\n"
		    "Call-ID: call-%d-273216449350@%s\r\n"
		    "CSeq: 1 INVITE\r\n"
		    "Contact: <sip:%d@%s:%d>\r\n"
		    "Max-Forwards: 70\r\nSupported: replaces, join, path, 100rel\r\n"
		    "User-Agent: Fanvil X3 1.3.384.1694\r\n"
		    "Allow: INVITE, ACK, OPTIONS, BYE, CANCEL, REFER, NOTIFY, INFO, PRACK, UPDATE, MESSAGE\r\n"
		    "Content-Type: application/sdp\r\n",
		    tr, ip, port, i, i, i, ip, i, ip, port);
	if (strcmp(o.mix, "sip") && strcmp(o.mix, "plain") &&
	    strcmp(o.mix, "call"))
		return;
	if (!strcmp(o.mix, "call"))
		goto bye;
	put(p, sdp,
	    "SIP/2.0 200 OK\r\n"
	    "Via: SIP/2.0/%s %s:5060;branch=z9hG4bK-srv-%d;received=%s\r\n"
	    "Record-Route: <sip:%s;lr>\r\n"
	    "From: <sip:100@avantelecom.avantele.com>;tag=abc\r\n"
	    "To: <sip:%d@avantelecom.avantele.com>;tag=908623127\r\n"
	    "Call-ID: in-%d@%s\r\nCSeq: 20 INVITE\r\n"
	    "Contact: <sip:%d@%s:%d>\r\n"
	    "User-Agent: Fanvil X3 1.3.384.1694\r\n"
	    "Content-Type: application/sdp\r\n",
	    tr, o.dst, i, o.dst, o.dst, i, i, o.dst, i, ip, port);
	put(p, "",
	    "ACK sip:*43@%s:5060 SIP/2.0\r\n"
	    "Via: SIP/2.0/%s %s:%d;branch=z9hG4bK-ack-%d;rport\r\n"
	    "From: \" \" <sip:%d@avantelecom.avantele.com:5060>;tag=908623127\r\n"
	    "To: \"**43\" <sip:*43@avantelecom.avantele.com;user=phone>;tag=srv1\r\n"
	    "Call-ID: call-%d-273216449350@%s\r\nCSeq: 1 ACK\r\n"
	    "Max-Forwards: 70\r\n",
	    o.dst, tr, ip, port, i, i, i, ip);
bye:
	put(p, "",
	    "BYE sip:*43@%s:5060 SIP/2.0\r\n"
	    "Via: SIP/2.0/%s %s:%d;branch=z9hG4bK-bye-%d;rport\r\n"
	    "From: \" \" <sip:%d@avantelecom.avantele.com:5060>;tag=908623127\r\n"
	    "To: \"**43\" <sip:*43@avantelecom.avantele.com;user=phone>;tag=srv1\r\n"
	    "Call-ID: call-%d-273216449350@%s\r\nCSeq: 2 BYE\r\n"
	    "Max-Forwards: 70\r\n",
	    o.dst, tr, ip, port, i, i, i, ip);
	if (!strcmp(o.mix, "plain"))	/* same sizes, not SIP */
		for (int k = 0; k < p->n; k++)
			memset(p->msg[k], 'x', p->len[k]);
}

/* Run fn in namespace ns (a /run/netns path), then come back. */
static int in_ns(const char *ns, int (*fn)(void))
{
	int self = open("/proc/self/ns/net", O_RDONLY), fd, ret;

	fd = open(ns, O_RDONLY);
	if (self < 0 || fd < 0 || setns(fd, CLONE_NEWNET))
		die("setns %s", ns);
	ret = fn();
	if (setns(self, CLONE_NEWNET))
		die("setns back");
	close(fd);
	close(self);
	return ret;
}

static int sink_fd, ep = -1;

static int open_sink(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(o.dport) };
	int fd = socket(AF_INET, o.tcp ? SOCK_STREAM : SOCK_DGRAM, 0), one = 1;
	int small = 1;

	/* Bound to the destination address: answers leave from it even when
	 * the server has several (scale.sh: one registrar per 50 000 phones).
	 */
	inet_pton(AF_INET, o.dst, &a.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (!o.tcp && !o.respond)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	if (bind(fd, (void *)&a, sizeof(a)))
		die("bind sink :%d", o.dport);
	if (o.tcp && listen(fd, 65535))
		die("listen");
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* Echo the request's dialog headers in a 200 OK (registrar stand-in). */
static int answer(const char *req, int n, char *out)
{
	static const char *const keep[] = { "Via:", "From:", "To:",
		"Call-ID:", "CSeq:", "Contact:" };
	const char *p = req, *end = req + n;
	int len = sprintf(out, "SIP/2.0 200 OK\r\n");

	if (n < 8 || !memcmp(req, "SIP/", 4))
		return 0;
	while (p < end) {
		const char *eol = memmem(p, end - p, "\r\n", 2);
		int l;

		if (!eol || eol == p)
			break;
		l = eol - p;
		for (unsigned int k = 0; k < sizeof(keep) / sizeof(*keep); k++)
			if (!strncasecmp(p, keep[k], strlen(keep[k])) &&
			    len + l + 40 < MSGLEN) {
				memcpy(out + len, p, l);
				len += l;
				if (k == 5)
					len += sprintf(out + len,
						       ";expires=3600");
				len += sprintf(out + len, "\r\n");
			}
		p = eol + 2;
	}
	return len + sprintf(out + len, "Content-Length: 0\r\n\r\n");
}

/* TCP: accept what is pending, read what arrived; UDP -R: answer. */
static void drain(void)
{
	static char buf[65536], out[MSGLEN];
	struct epoll_event ev[64];
	int n, fd;

	if (!o.tcp) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);

		while (o.respond && (n = recvfrom(sink_fd, buf, sizeof(buf),
				MSG_DONTWAIT, (void *)&from, &fl)) > 0) {
			int l = answer(buf, n, out);

			if (l)
				sendto(sink_fd, out, l, 0, (void *)&from, fl);
			fl = sizeof(from);
		}
		return;
	}
	while ((fd = accept4(sink_fd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
		struct epoll_event e = { .events = EPOLLIN, .data.fd = fd };

		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
	}
	while ((n = epoll_wait(ep, ev, 64, 0)) > 0)
		for (int k = 0; k < n; k++)
			while (read(ev[k].data.fd, buf, sizeof(buf)) > 0)
				;
}

static void burst(struct phone *p)
{
	if (o.tcp) {
		for (int k = 0; k < p->n; k++)
			if (write(p->fd, p->msg[k], p->len[k]) != p->len[k])
				die("write");
	} else {
		struct mmsghdr mm[MAXMSG];
		struct iovec iov[MAXMSG];

		memset(mm, 0, sizeof(mm));
		for (int k = 0; k < p->n; k++) {
			iov[k].iov_base = p->msg[k];
			iov[k].iov_len = p->len[k];
			mm[k].msg_hdr.msg_iov = &iov[k];
			mm[k].msg_hdr.msg_iovlen = 1;
		}
		/* A full backlog (2 CPUs, softirq deferred) may cut it short. */
		for (int k = 0, r; k < p->n; k += r) {
			r = sendmmsg(p->fd, mm + k, p->n - k, 0);
			if (r < 0 && errno != ENOBUFS && errno != EAGAIN)
				die("sendmmsg");
			if (r < 0)
				r = 0;
		}
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: sipflood [-t] [-R] [-m sip|register|invite|call|plain] [-n PHONES]\n"
		"  [-b BASEPORT] [-M MEDIAPORT] [-s SRCIP] [-d DSTIP] [-P DPORT] [-r ROUNDS]\n"
		"  [-w WARMUP] [-S SERVER_NETNS] [-T [-o FIRST]]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct sockaddr_in dst = { .sin_family = AF_INET };
	struct rlimit rl = { 1 << 20, 1 << 20 };
	struct phone *ph;
	long long t0 = 0, t1, pkts = 0;
	int c, one = 1;

	while ((c = getopt(argc, argv, "tRm:n:b:M:s:d:P:r:w:S:To:")) != -1) {
		switch (c) {
		case 't': o.tcp = 1; break;
		case 'R': o.respond = 1; break;
		case 'm': o.mix = optarg; break;
		case 'n': o.phones = atoi(optarg); break;
		case 'b': o.base = atoi(optarg); break;
		case 'M': o.media = atoi(optarg); break;
		case 's': o.src = optarg; break;
		case 'd': o.dst = optarg; break;
		case 'P': o.dport = atoi(optarg); break;
		case 'r': o.rounds = atoi(optarg); break;
		case 'w': o.warmup = atoi(optarg); break;
		case 'S': o.sink_ns = optarg; break;
		case 'T': o.trunk = 1; break;
		case 'o': o.first = atoi(optarg); break;
		default: usage();
		}
	}
	if (o.phones < 1 || o.phones > 4 * PORTS_PER_IP || inet_pton(AF_INET, o.dst,
	    &dst.sin_addr) != 1)
		usage();
	dst.sin_port = htons(o.dport);
	setrlimit(RLIMIT_NOFILE, &rl);
	ph = calloc(o.phones, sizeof(*ph));
	if (!ph)
		die("calloc");
	if (o.sink_ns)
		sink_fd = in_ns(o.sink_ns, open_sink);
	if (o.tcp && (ep = epoll_create1(0)) < 0)
		die("epoll");
	for (int i = 0; i < o.phones; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET,
			.sin_port = htons(o.base + i % PORTS_PER_IP) };
		struct phone *p = &ph[i];

		if (inet_pton(AF_INET, o.src, &a.sin_addr) != 1)
			usage();
		a.sin_addr.s_addr = htonl(ntohl(a.sin_addr.s_addr) +
					  i / PORTS_PER_IP);
		inet_ntop(AF_INET, &a.sin_addr, p->ip, sizeof(p->ip));
		build(p, i);
		if (o.trunk && i) {	/* the trunk's one socket */
			p->fd = ph[0].fd;
			continue;
		}
		if (o.trunk)
			a.sin_port = htons(o.base);
		p->fd = socket(AF_INET, o.tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
		setsockopt(p->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (p->fd < 0 || bind(p->fd, (void *)&a, sizeof(a)))
			die("phone socket %s:%d", p->ip, o.base + i % PORTS_PER_IP);
		if (o.tcp)
			setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one,
				   sizeof(one));
		if (connect(p->fd, (void *)&dst, sizeof(dst)))
			die("connect %s:%d", o.dst, o.dport);
		if (o.sink_ns && (o.tcp || o.respond) && i % 64 == 63)
			drain();
	}
	for (int r = 0; r < o.warmup + o.rounds; r++) {
		if (r == o.warmup)
			t0 = now_ns();
		for (int i = 0; i < o.phones; i++) {
			burst(&ph[i]);
			if (o.sink_ns && (o.tcp || o.respond))
				drain();
			if (r >= o.warmup)
				pkts += ph[i].n;
		}
	}
	if (!o.rounds)
		t0 = now_ns();
	t1 = now_ns();
	printf("packets=%lld ns=%lld ns_per_packet=%.0f\n", pkts, t1 - t0,
	       pkts ? (double)(t1 - t0) / pkts : 0.0);
	return 0;
}
