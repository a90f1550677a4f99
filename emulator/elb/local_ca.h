// LocalCa: the emulator's own certificate authority, so HTTPS listeners can present
// certificates clients trust once they trust the CA's PEM (no ACM, no network).
//
// The CA's key and certificate live in <state-dir>/ca/ and are reused across
// restarts on the same state dir; leaf certificates are issued on demand for a load
// balancer's DNS names plus localhost and 127.0.0.1. Keys come from OpenSSL's
// generator, not the run's seed: certificates are not part of a scenario's journal.
// Any thread.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"

namespace understudy::elb {

struct IssuedCertificate {
  std::string certificate_pem;  // leaf, then the CA
  std::string private_key_pem;
};

class LocalCa {
 public:
  // Loads the CA from `directory`, or creates it there.
  static Result<std::unique_ptr<LocalCa>> LoadOrCreate(const std::string& directory);
  ~LocalCa();

  // The CA certificate clients add to their trust store.
  const std::string& ca_pem() const { return ca_pem_; }
  const std::string& ca_path() const { return ca_path_; }
  // A certificate for `dns_names` (the first is the subject), valid for a year, with
  // localhost and 127.0.0.1 as further subject alternative names.
  Result<IssuedCertificate> Issue(const std::vector<std::string>& dns_names);

 private:
  struct Keys;
  LocalCa(std::unique_ptr<Keys> keys, std::string ca_pem, std::string ca_path);
  std::unique_ptr<Keys> keys_;
  std::string ca_pem_;
  std::string ca_path_;
  std::mutex mu_;
};

}  // namespace understudy::elb
