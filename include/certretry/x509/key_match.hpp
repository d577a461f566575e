// certretry/x509/key_match.hpp — "the certificate's public key is the one we asked for", with
// OpenSSL 3. Include it only where OpenSSL's libcrypto is linked (certretry::acme or
// certretry::certretry, or OpenSSL::Crypto yourself); the core component never includes it.
//
// VCert's CheckCertificate (docs/sources.md#vcert-check-certificate) compares the returned
// certificate's public key with the request's key or CSR and fails the retrieval on a mismatch
// ("unmatched key modulus"): a CA, a TPP race (docs/sources.md#vcert-273) or a proxy can hand
// back a certificate for another key, which would fail only at the TLS handshake after install.
// Here the key comes from the CSR (PEM or DER) or from a PEM key (private or public), and the
// check is a certificate_check every machine can take.
#pragma once

#include "certretry/core/certificate_check.hpp"
#include "certretry/core/errc.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <climits>
#include <cstddef>
#include <memory>
#include <string_view>
#include <utility>

namespace certretry {

/// A CSR or key larger than this is not read (a PEM RSA-16384 private key is about 12 KiB).
inline constexpr std::size_t max_key_source_bytes = 64 * 1024;

/// The public key a certificate must carry. Shares its key when copied (EVP_PKEY is reference
/// counted and read-only here, so copies may be used from several threads).
///
/// Thread safety: copies share one read-only key and may be used from several threads at once.
class expected_public_key {
 public:
  /// From a PKCS#10 CSR, PEM ("CERTIFICATE REQUEST") or DER. The CSR's signature is not checked:
  /// the caller made it.
  static result<expected_public_key> from_csr(std::string_view csr) {
    if (csr.empty() || csr.size() > max_key_source_bytes) return errc::key_source_unreadable;
    X509_REQ* req = nullptr;
    if (csr.find("-----BEGIN") != std::string_view::npos) {
      const std::unique_ptr<BIO, decltype(&BIO_free)> bio{
          BIO_new_mem_buf(csr.data(), static_cast<int>(csr.size())), &BIO_free};
      if (bio) req = PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr);
    } else {
      const auto* p = reinterpret_cast<const unsigned char*>(csr.data());
      req = d2i_X509_REQ(nullptr, &p, static_cast<long>(csr.size()));
    }
    if (req == nullptr) return errc::key_source_unreadable;
    const std::unique_ptr<X509_REQ, decltype(&X509_REQ_free)> owned{req, &X509_REQ_free};
    EVP_PKEY* key = X509_REQ_get_pubkey(req);  // a new reference
    if (key == nullptr) return errc::key_source_unreadable;
    return expected_public_key{key};
  }

  /// From a PEM private key ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY") or public key
  /// ("PUBLIC KEY"). Encrypted keys are refused (no passphrase callback).
  static result<expected_public_key> from_pem_key(std::string_view pem) {
    if (pem.empty() || pem.size() > max_key_source_bytes) return errc::key_source_unreadable;
    const auto read = [&](auto reader) -> EVP_PKEY* {
      const std::unique_ptr<BIO, decltype(&BIO_free)> bio{
          BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free};
      return bio ? reader(bio.get()) : nullptr;
    };
    static constexpr auto no_passphrase = [](char*, int, int, void*) { return -1; };
    EVP_PKEY* key = nullptr;
    if (pem.find("PRIVATE KEY-----") != std::string_view::npos)
      key =
          read([](BIO* b) { return PEM_read_bio_PrivateKey(b, nullptr, no_passphrase, nullptr); });
    else
      key = read([](BIO* b) { return PEM_read_bio_PUBKEY(b, nullptr, nullptr, nullptr); });
    if (key == nullptr) return errc::key_source_unreadable;
    return expected_public_key{key};
  }

  /// Empty when the leaf's subjectPublicKeyInfo holds this key; otherwise why not.
  std::string_view check(const x509_leaf& leaf) const {
    const auto* p = leaf.spki.data();
    EVP_PKEY* got = d2i_PUBKEY(nullptr, &p, static_cast<long>(leaf.spki.size()));
    if (got == nullptr) return "its subjectPublicKeyInfo is not a key OpenSSL reads";
    const std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> owned{got, &EVP_PKEY_free};
    if (EVP_PKEY_eq(key_.get(), got) != 1)
      return "its public key is not the CSR's (or the key's): the CA returned a certificate for "
             "another key";
    return {};
  }

 private:
  explicit expected_public_key(EVP_PKEY* key) : key_(key, &EVP_PKEY_free) {}
  std::shared_ptr<EVP_PKEY> key_;
};

/// The check VCert makes: the certificate parses as X.509 and its public key is `key`.
inline certificate_check key_match_check(expected_public_key key) {
  return {certificate_shape::x509,
          [k = std::move(key)](const x509_leaf& leaf) { return k.check(leaf); }};
}

}  // namespace certretry
