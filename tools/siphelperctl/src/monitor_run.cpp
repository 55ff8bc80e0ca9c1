// SPDX-License-Identifier: GPL-2.0
// siphelperctl monitor: the listening loop. SIGINT and SIGTERM are blocked
// except inside ppoll(), so a signal is never lost between the check of
// the stop flag and the wait, and the loop always ends cleanly (exit 0).
#include "monitor_run.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <poll.h>

#include "monitor.hpp"
#include "pcapng.hpp"

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

// Where the events go: the terminal (text or JSON), or a pcapng file.
class Sink {
public:
	explicit Sink(const Invocation &inv) : json_(inv.json), path_(inv.write)
	{
		if (path_.empty())
			return;
		std::ostream *os = &std::cout;
		if (path_ != "-") {
			file_.open(path_, std::ios::binary | std::ios::trunc);
			if (!file_)
				throw std::runtime_error(
					"monitor: cannot write " + path_ +
					": " + strerror(errno) +
					" (give a writable file, or - for "
					"standard output)");
			os = &file_;
		}
		pcap_ = std::make_unique<PcapngWriter>(*os);
	}
	~Sink()
	{
		if (pcap_ && path_ != "-")
			std::cerr << "siphelperctl: monitor: " << written_ / 2
				  << " rewrites (" << written_
				  << " packets) written to " << path_ << "\n";
	}
	Sink(const Sink &) = delete;
	Sink &operator=(const Sink &) = delete;

	// Whether the event counts for -c: every event on the terminal, a
	// rewrite in the capture.
	bool put(const Event &e)
	{
		if (!pcap_) {
			std::cout << format_event(e, json_) << std::flush;
			return true;
		}
		auto now = std::chrono::system_clock::now().time_since_epoch();
		unsigned n = pcap_->write(e, std::chrono::duration_cast<
				std::chrono::microseconds>(now).count());
		if (file_.is_open() && !file_)
			throw std::runtime_error("monitor: writing " + path_ +
						 " failed: " +
						 strerror(errno));
		written_ += n;
		return n > 0;
	}

private:
	bool json_;
	std::string path_;
	std::ofstream file_;
	std::unique_ptr<PcapngWriter> pcap_;
	unsigned long written_ = 0;
};

} // namespace

int run_monitor(Client &c, const Invocation &inv)
{
	Sink sink(inv);
	SignalGuard sig;
	c.join_events();
	unsigned seen = 0, count = inv.count;
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
				       if (sink.put(parse_event(a)))
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
