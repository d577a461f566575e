// crypto.hpp — the OpenSSL pieces an ACME client needs: base64url, a P-256 account key that
// signs ES256 JWS (RFC 7518 §3.4), its JWK (RFC 7517), and a CSR for dNSName identifiers.
#pragma once

#include <certretry/acme/cert_id.hpp>
#include <certretry/core/text.hpp>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace acme_pebble {

// RFC 8555 §6.1 / RFC 7515 §2: base64url without padding (the library's, as for the CertID).
inline std::string base64url(std::string_view bytes) {
  return certretry::base64url({reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()});
}

// A JSON string literal (quotes and escapes) for text such as a nonce or a URL.
inline std::string json_quote(std::string_view s) {
  std::string out;
  certretry::detail::append_json_string(out, s);
  return out;
}

namespace detail {

struct pkey_free {
  void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
struct md_ctx_free {
  void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
};
struct ecdsa_sig_free {
  void operator()(ECDSA_SIG* p) const noexcept { ECDSA_SIG_free(p); }
};
struct req_free {
  void operator()(X509_REQ* p) const noexcept { X509_REQ_free(p); }
};
struct ext_free {
  void operator()(X509_EXTENSION* p) const noexcept { X509_EXTENSION_free(p); }
};
struct ext_stack_free {
  void operator()(STACK_OF(X509_EXTENSION) * p) const noexcept {
    sk_X509_EXTENSION_pop_free(p, X509_EXTENSION_free);
  }
};
struct general_names_free {
  void operator()(GENERAL_NAMES* p) const noexcept { GENERAL_NAMES_free(p); }
};
struct bio_free {
  void operator()(BIO* p) const noexcept { BIO_free(p); }
};

using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;

inline void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("OpenSSL: ") + what + " failed");
}

}  // namespace detail

// A fresh P-256 key. Account and certificate keys are both of this kind.
class ec_key {
 public:
  ec_key() : key_(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")) {
    detail::check(key_ != nullptr, "P-256 key generation");
  }

  EVP_PKEY* get() const noexcept { return key_.get(); }

  // RFC 7518 §6.2.1 members in the lexicographic order RFC 7638 §3.2 fixes for thumbprints.
  std::string jwk() const {
    std::array<unsigned char, 65> point{};
    std::size_t len = 0;
    detail::check(EVP_PKEY_get_octet_string_param(key_.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                                  point.data(), point.size(), &len) == 1 &&
                      len == point.size() && point[0] == 0x04,
                  "reading the public point");
    const std::string_view raw{reinterpret_cast<const char*>(point.data()), point.size()};
    return R"({"crv":"P-256","kty":"EC","x":")" + base64url(raw.substr(1, 32)) + R"(","y":")" +
           base64url(raw.substr(33, 32)) + "\"}";
  }

  // ES256 (RFC 7518 §3.4): ECDSA over SHA-256, the signature as the 32-byte big-endian R and S
  // concatenated, not OpenSSL's DER SEQUENCE.
  std::string sign_es256(std::string_view signing_input) const {
    std::unique_ptr<EVP_MD_CTX, detail::md_ctx_free> ctx{EVP_MD_CTX_new()};
    detail::check(ctx != nullptr, "EVP_MD_CTX_new");
    detail::check(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) == 1,
                  "EVP_DigestSignInit");
    const auto* in = reinterpret_cast<const unsigned char*>(signing_input.data());
    std::size_t der_len = 0;
    detail::check(EVP_DigestSign(ctx.get(), nullptr, &der_len, in, signing_input.size()) == 1,
                  "EVP_DigestSign (size)");
    std::vector<unsigned char> der(der_len);
    detail::check(EVP_DigestSign(ctx.get(), der.data(), &der_len, in, signing_input.size()) == 1,
                  "EVP_DigestSign");
    const unsigned char* p = der.data();
    std::unique_ptr<ECDSA_SIG, detail::ecdsa_sig_free> sig{
        d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len))};
    detail::check(sig != nullptr, "decoding the DER signature");
    const BIGNUM* r = nullptr;
    const BIGNUM* s = nullptr;
    ECDSA_SIG_get0(sig.get(), &r, &s);
    std::array<unsigned char, 64> raw{};
    detail::check(
        BN_bn2binpad(r, raw.data(), 32) == 32 && BN_bn2binpad(s, raw.data() + 32, 32) == 32,
        "encoding R and S");
    return base64url(std::string_view{reinterpret_cast<const char*>(raw.data()), raw.size()});
  }

  std::string private_pem() const {
    std::unique_ptr<BIO, detail::bio_free> bio{BIO_new(BIO_s_mem())};
    detail::check(bio != nullptr, "BIO_new");
    detail::check(
        PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "PEM_write_bio_PrivateKey");
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
  }

 private:
  detail::pkey_ptr key_;
};

// A PKCS#10 CSR (RFC 2986) signed by `key`, naming every identifier as a dNSName in the
// subjectAltName extension: RFC 8555 §7.4 has the CA read identifiers from there. Returned as
// DER, which §7.4 wants base64url-encoded in the finalize payload.
inline std::string make_csr_der(const ec_key& key, const std::vector<std::string>& dns_names) {
  std::unique_ptr<X509_REQ, detail::req_free> req{X509_REQ_new()};
  detail::check(req != nullptr, "X509_REQ_new");
  detail::check(X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) == 1, "X509_REQ_set_version");
  if (!dns_names.empty()) {
    X509_NAME* subject = X509_REQ_get_subject_name(req.get());
    detail::check(
        X509_NAME_add_entry_by_txt(
            subject, "CN", MBSTRING_ASC,
            reinterpret_cast<const unsigned char*>(dns_names.front().c_str()), -1, -1, 0) == 1,
        "setting the CN");
  }
  std::unique_ptr<GENERAL_NAMES, detail::general_names_free> names{GENERAL_NAMES_new()};
  detail::check(names != nullptr, "GENERAL_NAMES_new");
  for (const auto& name : dns_names) {
    // Built field by field rather than through a "DNS:a,DNS:b" config string, which a name
    // holding a comma could rewrite.
    GENERAL_NAME* gn = GENERAL_NAME_new();
    ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
    const bool ok = gn != nullptr && ia5 != nullptr &&
                    ASN1_STRING_set(ia5, name.data(), static_cast<int>(name.size())) == 1;
    if (!ok) {
      GENERAL_NAME_free(gn);
      ASN1_IA5STRING_free(ia5);
      detail::check(false, "building a dNSName");
    }
    GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
    if (sk_GENERAL_NAME_push(names.get(), gn) == 0) {
      GENERAL_NAME_free(gn);
      detail::check(false, "sk_GENERAL_NAME_push");
    }
  }
  std::unique_ptr<X509_EXTENSION, detail::ext_free> san{
      X509V3_EXT_i2d(NID_subject_alt_name, 0, names.get())};
  detail::check(san != nullptr, "encoding subjectAltName");
  std::unique_ptr<STACK_OF(X509_EXTENSION), detail::ext_stack_free> exts{
      sk_X509_EXTENSION_new_null()};
  detail::check(exts != nullptr, "sk_X509_EXTENSION_new_null");
  detail::check(sk_X509_EXTENSION_push(exts.get(), san.get()) != 0, "sk_X509_EXTENSION_push");
  san.release();  // owned by the stack now
  detail::check(X509_REQ_add_extensions(req.get(), exts.get()) == 1, "X509_REQ_add_extensions");
  detail::check(X509_REQ_set_pubkey(req.get(), key.get()) == 1, "X509_REQ_set_pubkey");
  detail::check(X509_REQ_sign(req.get(), key.get(), EVP_sha256()) > 0, "X509_REQ_sign");
  const int len = i2d_X509_REQ(req.get(), nullptr);
  detail::check(len > 0, "i2d_X509_REQ (size)");
  std::string der(static_cast<std::size_t>(len), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  detail::check(i2d_X509_REQ(req.get(), &out) == len, "i2d_X509_REQ");
  return der;
}

}  // namespace acme_pebble
