// SPDX-License-Identifier: GPL-2.0
// siphelperctl monitor: the listening loop. SIGINT and SIGTERM are blocked
// except inside ppoll(), so a signal is never lost between the check of
// the stop flag and the wait, and the loop always ends cleanly (exit 0).
#include "monitor_run.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>
#include <poll.h>

#include "monitor.hpp"

namespace shp {
namespace {

volatile sig_atomic_t g_stop = 0;

void on_signal(int)
{
	g_stop = 1;
}

// Restores the signal mask and handlers on every way out.
class SignalGuard {
public:
	SignalGuard()
	{
		struct sigaction sa = {};
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, &old_int_);
		sigaction(SIGTERM, &sa, &old_term_);
		sigset_t block;
		sigemptyset(&block);
		sigaddset(&block, SIGINT);
		sigaddset(&block, SIGTERM);
		sigprocmask(SIG_BLOCK, &block, &wait_mask_);
		sigdelset(&wait_mask_, SIGINT);
		sigdelset(&wait_mask_, SIGTERM);
	}
	~SignalGuard()
	{
		sigset_t unblock;
		sigemptyset(&unblock);
		sigaddset(&unblock, SIGINT);
		sigaddset(&unblock, SIGTERM);
		sigprocmask(SIG_UNBLOCK, &unblock, nullptr);
		sigaction(SIGINT, &old_int_, nullptr);
		sigaction(SIGTERM, &old_term_, nullptr);
	}
	SignalGuard(const SignalGuard &) = delete;
	SignalGuard &operator=(const SignalGuard &) = delete;
	// The mask for ppoll: the caller's, with SIGINT/SIGTERM deliverable.
	const sigset_t *wait_mask() const { return &wait_mask_; }

private:
	struct sigaction old_int_ = {}, old_term_ = {};
	sigset_t wait_mask_;
};

} // namespace

int run_monitor(Client &c, bool json, unsigned count)
{
	SignalGuard sig;
	c.join_events();
	unsigned seen = 0;
	auto done = [&] { return g_stop || (count && seen >= count); };
	while (!done()) {
		pollfd p = {c.fd(), POLLIN, 0};
		if (ppoll(&p, 1, nullptr, sig.wait_mask()) < 0) {
			if (errno == EINTR)
				continue;
			throw NlError(errno, std::string("poll failed: ") +
						     strerror(errno));
		}
		try {
			while (!done() &&
			       c.read_events([&](std::span<const uint8_t> a) {
				       if (done())
					       return;
				       std::cout << format_event(parse_event(a),
								 json)
						 << std::flush;
				       seen++;
			       }))
				;
		} catch (const NlError &e) {
			if (e.err != ENOBUFS)
				throw;
			std::cerr << "siphelperctl: monitor: some events were "
				     "lost (receive buffer full): the terminal "
				     "is too slow, try -j to a file\n";
		}
	}
	return 0;
}

} // namespace shp
