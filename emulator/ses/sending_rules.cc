#include "ses/sending_rules.h"

#include <algorithm>
#include <cctype>

#include "ses/mime.h"

namespace understudy::ses {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string DomainOf(std::string_view address) {
  std::string bare = BareAddress(address);
  size_t at = bare.rfind('@');
  return at == std::string::npos ? std::string() : Lower(bare.substr(at + 1));
}

std::optional<std::string> SimulatorMailbox(std::string_view address) {
  std::string bare = BareAddress(address);
  if (DomainOf(bare) != kSimulatorDomain) return std::nullopt;
  std::string local = Lower(bare.substr(0, bare.rfind('@')));
  size_t plus = local.find('+');
  if (plus != std::string::npos) local.resize(plus);
  for (const char* known : {"success", "bounce", "ooto", "complaint", "suppressionlist"}) {
    if (local == known) return std::string(known);
  }
  return std::string();
}

bool IsVerifiedAddress(std::string_view address,
                       const std::function<bool(const std::string&)>& verified) {
  std::string bare = BareAddress(address);
  if (verified(bare)) return true;
  std::string domain = DomainOf(bare);
  // The domain and each parent domain (a.b.example.com -> b.example.com -> example.com).
  while (!domain.empty()) {
    if (verified(domain)) return true;
    size_t dot = domain.find('.');
    if (dot == std::string::npos) break;
    domain = domain.substr(dot + 1);
    if (domain.find('.') == std::string::npos) break;  // never a bare TLD
  }
  return false;
}

std::vector<std::string> FailedIdentities(const std::vector<std::string>& senders,
                                          const std::vector<std::string>& recipients, bool sandbox,
                                          const std::function<bool(const std::string&)>& verified) {
  std::vector<std::string> failed;
  auto add = [&](const std::string& address) {
    std::string bare = BareAddress(address);
    if (std::find(failed.begin(), failed.end(), bare) == failed.end()) failed.push_back(bare);
  };
  for (const auto& s : senders) {
    if (!IsVerifiedAddress(s, verified)) add(s);
  }
  if (sandbox) {
    for (const auto& r : recipients) {
      if (SimulatorMailbox(r)) continue;
      if (!IsVerifiedAddress(r, verified)) add(r);
    }
  }
  return failed;
}

std::string NotVerifiedMessage(const std::vector<std::string>& identities,
                               const std::string& region) {
  std::string upper;
  for (char c : region) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string list;
  for (const auto& i : identities) list += (list.empty() ? "" : ", ") + i;
  return "Email address is not verified. The following identities failed the check in region " +
         upper + ": " + list;
}

void SendQuota::Expire(int64_t now_ms) {
  while (!day_.empty() && day_.front().first <= now_ms - 24LL * 3600 * 1000) {
    day_sum_ -= day_.front().second;
    day_.pop_front();
  }
  while (!second_.empty() && second_.front().first <= now_ms - 1000) {
    second_sum_ -= second_.front().second;
    second_.pop_front();
  }
}

SendQuota::Verdict SendQuota::Check(int64_t now_ms, int counted, int rated) {
  Expire(now_ms);
  // A message alone in its second always fits, whatever its recipient count.
  if (max_rate_ > 0 && second_sum_ > 0 && static_cast<double>(second_sum_ + rated) > max_rate_) {
    return Verdict::kRateExceeded;
  }
  if (max_24h_ >= 0 && static_cast<double>(day_sum_ + counted) > max_24h_ && counted > 0) {
    return Verdict::kDailyExceeded;
  }
  return Verdict::kOk;
}

void SendQuota::Record(int64_t now_ms, int counted, int rated) {
  Expire(now_ms);
  if (counted > 0) {
    day_.emplace_back(now_ms, counted);
    day_sum_ += counted;
  }
  if (rated > 0) {
    second_.emplace_back(now_ms, rated);
    second_sum_ += rated;
  }
}

int64_t SendQuota::SentLast24Hours(int64_t now_ms) {
  Expire(now_ms);
  return day_sum_;
}

void SendQuota::Clear() {
  day_.clear();
  second_.clear();
  day_sum_ = second_sum_ = 0;
}

}  // namespace understudy::ses
