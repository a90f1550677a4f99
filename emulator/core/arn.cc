#include "core/arn.h"

#include <vector>

namespace understudy {

bool IsAccountId(std::string_view text) {
  if (text.size() != 12) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string AccountFor(std::string_view access_key_id, std::string_view default_account) {
  return std::string(IsAccountId(access_key_id) ? access_key_id : default_account);
}

bool IsRegionName(std::string_view text) {
  // letters-and-dashes, a dash, digits: "us-east-1"
  if (text.empty() || text.size() > 32) return false;
  size_t dash = text.rfind('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == text.size()) return false;
  for (size_t i = 0; i < dash; ++i) {
    char c = text[i];
    if (!((c >= 'a' && c <= 'z') || c == '-')) return false;
  }
  for (size_t i = dash + 1; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  return true;
}

std::string Arn::ToString() const {
  return "arn:" + partition + ":" + service + ":" + region + ":" + account + ":" + resource;
}

std::optional<Arn> Arn::Parse(std::string_view text) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (int i = 0; i < 5; ++i) {
    size_t colon = text.find(':', start);
    if (colon == std::string_view::npos) return std::nullopt;
    parts.emplace_back(text.substr(start, colon - start));
    start = colon + 1;
  }
  if (parts[0] != "arn" || parts[1].empty() || parts[2].empty() || start >= text.size()) {
    return std::nullopt;
  }
  return Arn{parts[1], parts[2], parts[3], parts[4], std::string(text.substr(start))};
}

std::string MakeArn(std::string_view service, const Scope& scope, std::string_view resource) {
  return Arn{"aws", std::string(service), scope.region, scope.account, std::string(resource)}
      .ToString();
}

}  // namespace understudy
