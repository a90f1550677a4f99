#include "elb/local_ca.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace understudy::elb {
namespace {

struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CertFree {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;
using CertPtr = std::unique_ptr<X509, CertFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

KeyPtr NewKey() { return KeyPtr(EVP_EC_gen("P-256")); }

std::string KeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

std::string CertPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

bool AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (extension == nullptr) return false;
  bool ok = X509_add_ext(cert, extension, -1) == 1;
  X509_EXTENSION_free(extension);
  return ok;
}

// An unsigned certificate for `subject` issued by `issuer` (itself when null).
CertPtr NewCertificate(EVP_PKEY* key, const std::string& subject, X509* issuer, long days) {
  CertPtr cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* number = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(number, X509_get_serialNumber(cert.get()));
  BN_free(number);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 60L * 60 * 24 * days);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("understudy"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(subject.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  return cert;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Status WriteFile(const std::string& path, const std::string& text, bool secret) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Status::Internal("cannot write " + path);
  out << text;
  out.close();
  if (secret) {
    std::filesystem::permissions(
        path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  }
  return Status::Ok();
}

}  // namespace

struct LocalCa::Keys {
  KeyPtr key;
  CertPtr cert;
};

LocalCa::LocalCa(std::unique_ptr<Keys> keys, std::string ca_pem, std::string ca_path)
    : keys_(std::move(keys)), ca_pem_(std::move(ca_pem)), ca_path_(std::move(ca_path)) {}

LocalCa::~LocalCa() = default;

Result<std::unique_ptr<LocalCa>> LocalCa::LoadOrCreate(const std::string& directory) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec) return Status::Internal("cannot create " + directory + ": " + ec.message());
  std::string cert_path = directory + "/ca.pem";
  std::string key_path = directory + "/ca.key";
  auto keys = std::make_unique<Keys>();
  auto cert_text = ReadFile(cert_path);
  auto key_text = ReadFile(key_path);
  if (cert_text.ok() && key_text.ok()) {
    BioPtr cert_bio(BIO_new_mem_buf(cert_text->data(), static_cast<int>(cert_text->size())));
    BioPtr key_bio(BIO_new_mem_buf(key_text->data(), static_cast<int>(key_text->size())));
    keys->cert.reset(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
    keys->key.reset(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
    if (!keys->cert || !keys->key) {
      return Status::InvalidArgument("the local CA in " + directory + " cannot be read");
    }
    return std::unique_ptr<LocalCa>(new LocalCa(std::move(keys), *cert_text, cert_path));
  }
  keys->key = NewKey();
  if (!keys->key) return Status::Internal("cannot generate the local CA's key");
  keys->cert = NewCertificate(keys->key.get(), "understudy local CA", nullptr, 3650);
  X509* ca = keys->cert.get();
  if (!AddExtension(ca, ca, NID_basic_constraints, "critical,CA:TRUE") ||
      !AddExtension(ca, ca, NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !AddExtension(ca, ca, NID_subject_key_identifier, "hash") ||
      X509_sign(ca, keys->key.get(), EVP_sha256()) == 0) {
    return Status::Internal("cannot sign the local CA's certificate");
  }
  std::string pem = CertPem(ca);
  US_RETURN_IF_ERROR(WriteFile(key_path, KeyPem(keys->key.get()), true));
  US_RETURN_IF_ERROR(WriteFile(cert_path, pem, false));
  return std::unique_ptr<LocalCa>(new LocalCa(std::move(keys), pem, cert_path));
}

Result<IssuedCertificate> LocalCa::Issue(const std::vector<std::string>& dns_names) {
  std::lock_guard lock(mu_);
  KeyPtr key = NewKey();
  if (!key) return Status::Internal("cannot generate a certificate key");
  std::string subject = dns_names.empty() ? "localhost" : dns_names.front();
  CertPtr cert = NewCertificate(key.get(), subject, keys_->cert.get(), 365);
  std::string names;
  for (const auto& name : dns_names) names += "DNS:" + name + ",";
  names += "DNS:localhost,IP:127.0.0.1";
  X509* leaf = cert.get();
  X509* ca = keys_->cert.get();
  if (!AddExtension(leaf, ca, NID_subject_alt_name, names) ||
      !AddExtension(leaf, ca, NID_basic_constraints, "critical,CA:FALSE") ||
      !AddExtension(leaf, ca, NID_key_usage, "critical,digitalSignature,keyEncipherment") ||
      !AddExtension(leaf, ca, NID_ext_key_usage, "serverAuth") ||
      !AddExtension(leaf, ca, NID_authority_key_identifier, "keyid:always") ||
      X509_sign(leaf, keys_->key.get(), EVP_sha256()) == 0) {
    return Status::Internal("cannot sign a certificate for " + subject);
  }
  return IssuedCertificate{CertPem(leaf) + ca_pem_, KeyPem(key.get())};
}

}  // namespace understudy::elb
