// SendingRules: who may send to whom, and how much, as SES decides it (aws-semantics §5.2).
//
// Verification: an email-address identity covers exactly that address (case-sensitive);
// a domain identity covers every address at the domain and its subdomains. In the
// sandbox every recipient must be verified too, except mailbox-simulator addresses.
// Quotas count recipients: a 24-hour quota (simulator addresses excepted) and a
// per-second rate (simulator addresses included), both on the emulator's clock.
// Pure values; one owner (the loop thread).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace understudy::ses {

inline constexpr const char* kSimulatorDomain = "simulator.amazonses.com";

// "success", "bounce", "ooto", "complaint", "suppressionlist" for simulator addresses
// (their +label forms too), "" for an unknown simulator mailbox, nothing otherwise.
std::optional<std::string> SimulatorMailbox(std::string_view address);

// The domain of an address, lower-cased.
std::string DomainOf(std::string_view address);

// Whether `address` is covered by a verified identity; `verified(identity)` says whether
// one identity (an address or a domain) is verified.
bool IsVerifiedAddress(std::string_view address,
                       const std::function<bool(const std::string&)>& verified);

// The identities failing the check, in order, without repeats: the sender always, the
// recipients in the sandbox.
std::vector<std::string> FailedIdentities(const std::vector<std::string>& senders,
                                          const std::vector<std::string>& recipients, bool sandbox,
                                          const std::function<bool(const std::string&)>& verified);

// "Email address is not verified. The following identities failed the check in region
// US-EAST-1: a@x.com, b@y.com"
std::string NotVerifiedMessage(const std::vector<std::string>& identities,
                               const std::string& region);

// Sending quotas over a sliding 24 hours and a sliding second.
class SendQuota {
 public:
  // `max_24h` < 0 and `max_rate` <= 0 mean unlimited.
  void Configure(double max_24h, double max_rate) {
    max_24h_ = max_24h;
    max_rate_ = max_rate;
  }
  double max_24h() const { return max_24h_; }
  double max_rate() const { return max_rate_; }

  enum class Verdict { kOk, kRateExceeded, kDailyExceeded };
  // Whether a message to `counted` quota recipients and `rated` rate recipients may go at `now_ms`.
  Verdict Check(int64_t now_ms, int counted, int rated);
  void Record(int64_t now_ms, int counted, int rated);
  int64_t SentLast24Hours(int64_t now_ms);
  void Clear();

 private:
  void Expire(int64_t now_ms);
  double max_24h_ = 200;
  double max_rate_ = 1;
  std::deque<std::pair<int64_t, int>> day_;     // (ms, recipients)
  std::deque<std::pair<int64_t, int>> second_;  // (ms, recipients)
  int64_t day_sum_ = 0;
  int64_t second_sum_ = 0;
};

}  // namespace understudy::ses
