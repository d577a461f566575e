// certretry/acme/cert_id.hpp — the ARI certificate identifier (RFC 9773 §4.1).
//
// CertID = base64url(AKI keyIdentifier) "." base64url(serial number), both unpadded; the serial
// is the DER encoding's content octets, so a serial whose top bit is set keeps its leading 0x00.
// This is the one certretry header that includes OpenSSL; every OpenSSL object it makes is owned
// by a std::unique_ptr and freed on every path.
#pragma once

#include "certretry/core/base64url.hpp"
#include "certretry/core/errc.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace certretry::acme {

/// Largest PEM or DER input cert_id_from_pem / cert_id_from_der accept.
inline constexpr std::size_t max_certificate_bytes = std::size_t{64} * 1024;

namespace detail {

struct x509_deleter {
  void operator()(X509* p) const noexcept { X509_free(p); }
};
struct bio_deleter {
  void operator()(BIO* p) const noexcept { BIO_free(p); }
};
using x509_ptr = std::unique_ptr<X509, x509_deleter>;
using bio_ptr = std::unique_ptr<BIO, bio_deleter>;

// A failed parse leaves entries on OpenSSL's thread-local error queue; they are not the
// caller's business, so they are dropped before returning the certretry error.
inline std::error_code openssl_failure(errc e) noexcept {
  ERR_clear_error();
  return make_error_code(e);
}

inline result<std::string> cert_id_from_x509(const X509& cert) {
  // RFC 9773 §4.1: the keyIdentifier of the Authority Key Identifier extension.
  const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(const_cast<X509*>(&cert));
  if (aki == nullptr || ASN1_STRING_length(aki) <= 0)
    return openssl_failure(errc::certificate_lacks_aki);
  const auto aki_len = static_cast<std::size_t>(ASN1_STRING_length(aki));
  const std::span<const unsigned char> keyid{ASN1_STRING_get0_data(aki), aki_len};

  // The serial's DER content octets: i2d_ASN1_INTEGER's output without tag and length. The
  // raw ASN1_INTEGER bytes would drop the 0x00 that keeps a top-bit-set serial positive.
  const ASN1_INTEGER* serial = X509_get0_serialNumber(&cert);
  if (serial == nullptr) return openssl_failure(errc::certificate_unreadable);
  const int der_len = i2d_ASN1_INTEGER(serial, nullptr);
  if (der_len < 3) return openssl_failure(errc::certificate_unreadable);
  std::vector<unsigned char> der(static_cast<std::size_t>(der_len));
  unsigned char* out = der.data();
  if (i2d_ASN1_INTEGER(serial, &out) != der_len)
    return openssl_failure(errc::certificate_unreadable);
  std::size_t header = 2;
  if (der[1] & 0x80) header += der[1] & 0x7fu;  // long-form length
  if (der[0] != 0x02 || header >= der.size()) return openssl_failure(errc::certificate_unreadable);
  const std::span<const unsigned char> content{der.data() + header, der.size() - header};

  std::string id = base64url(keyid);
  id += '.';
  id += base64url(content);
  return id;
}

}  // namespace detail

/// CertID of a DER certificate. Errors: certificate_too_large (over max_certificate_bytes),
/// certificate_unreadable (not exactly one DER certificate), certificate_lacks_aki (no AKI
/// keyIdentifier).
inline result<std::string> cert_id_from_der(std::span<const unsigned char> der) {
  if (der.size() > max_certificate_bytes) return make_error_code(errc::certificate_too_large);
  if (der.empty()) return make_error_code(errc::certificate_unreadable);
  const unsigned char* p = der.data();
  detail::x509_ptr cert{d2i_X509(nullptr, &p, static_cast<long>(der.size()))};
  if (!cert || p != der.data() + der.size())
    return detail::openssl_failure(errc::certificate_unreadable);
  return detail::cert_id_from_x509(*cert);
}

/// CertID of the first certificate in a PEM text. Errors: certificate_too_large (over
/// max_certificate_bytes), certificate_unreadable (no PEM certificate), certificate_lacks_aki (no
/// AKI keyIdentifier).
inline result<std::string> cert_id_from_pem(std::string_view pem) {
  if (pem.size() > max_certificate_bytes) return make_error_code(errc::certificate_too_large);
  if (pem.empty()) return make_error_code(errc::certificate_unreadable);
  detail::bio_ptr bio{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))};
  if (!bio) return detail::openssl_failure(errc::certificate_unreadable);
  detail::x509_ptr cert{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)};
  if (!cert) return detail::openssl_failure(errc::certificate_unreadable);
  return detail::cert_id_from_x509(*cert);
}

}  // namespace certretry::acme
