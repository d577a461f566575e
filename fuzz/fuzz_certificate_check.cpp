// Bytes a hostile server calls a certificate: certificate_checker at every shape, the DER reader
// and the base64 decoder (core/certificate_check.hpp), and the OpenSSL key match
// (x509/key_match.hpp) on whatever leaf the reader accepts.
//
// Input: one byte that picks the shape (any, pem_or_der, x509, x509 + key match), then the
// bytes.
#include "certretry/core/certificate_check.hpp"
#include "certretry/x509/key_match.hpp"
#include "fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace {

using namespace certretry;

// An EC P-256 CSR (tests/scenarios/data/order-csr.pem).
constexpr std::string_view csr = R"(-----BEGIN CERTIFICATE REQUEST-----
MIHRMHoCAQAwGDEWMBQGA1UEAwwNb3JkZXIuZXhhbXBsZTBZMBMGByqGSM49AgEG
CCqGSM49AwEHA0IABCqXRGHtxXgEIwONQ3LH2K8t+YI+/7dYDm+9g2lmygN7jVoT
cy5iNev+ZqOPSLCwP9hNnYqoQPdnOoKDOo3pl8KgADAKBggqhkjOPQQDAgNHADBE
AiBiKc1hEaBwqkAp76zf7E45XhvfrnHY+OV6anv83U/7vgIgKnM0AwzRMjg7CTHx
tfl4sW6+5uPbJcXp5FVrdmFXhhg=
-----END CERTIFICATE REQUEST-----
)";

bool inside(std::span<const std::uint8_t> part, std::span<const std::uint8_t> whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  certretry::fuzzing::byte_reader in{data, size};
  const std::uint8_t pick = in.u8() % 4;
  const std::string_view bytes = in.bytes(size);

  static certificate_checker any{certificate_check::none()};
  static certificate_checker pem{};
  static certificate_checker x509{certificate_check::parses_as_x509()};
  static certificate_checker key{[] {
    auto k = expected_public_key::from_csr(csr);
    FUZZ_CHECK(k.has_value());
    return key_match_check(k.assume_value());
  }()};

  // Every shape answers, and a stricter shape never accepts what a laxer one refuses.
  FUZZ_CHECK(any.check(bytes).empty());
  const bool pem_ok = pem.check(bytes).empty();
  const bool x509_ok = x509.check(bytes).empty();
  if (x509_ok) FUZZ_CHECK(pem_ok);
  if (pick == 3) {
    const std::string_view why = key.check(bytes);
    if (why.empty()) FUZZ_CHECK(x509_ok);
    FUZZ_CHECK(why.size() < 512);
  }

  // The base64 decoder never writes more than the text can hold.
  std::vector<std::uint8_t> out;
  if (detail::decode_base64(bytes, out)) FUZZ_CHECK(out.size() <= bytes.size() / 4 * 3 + 2);

  // The DER reader: a leaf lies within the input, its SPKI within the leaf, both SEQUENCEs.
  const std::span<const std::uint8_t> raw{reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                          bytes.size()};
  const auto [leaf, why] = detail::parse_x509(raw);
  if (leaf) {
    FUZZ_CHECK(why.empty());
    FUZZ_CHECK(leaf->der.size() == raw.size());
    FUZZ_CHECK(inside(leaf->spki, leaf->der));
    FUZZ_CHECK(leaf->spki.size() >= 2 && leaf->spki[0] == 0x30);
    FUZZ_CHECK(x509_ok || bytes.find(detail::pem_certificate_begin) != std::string_view::npos);
  } else {
    FUZZ_CHECK(!why.empty());
  }
  return 0;
}
