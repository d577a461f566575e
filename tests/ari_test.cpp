// ACME Renewal Information (RFC 9773): the CertID of real certificates, the window pick and the
// Retry-After clamp.
#include <certretry/acme/cert_id.hpp>
#include <certretry/acme/renewal_window.hpp>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using certretry::base64url;
using certretry::errc;
using certretry::time_point;
using certretry::acme::cert_id_from_der;
using certretry::acme::cert_id_from_pem;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<unsigned char> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

// Certificates made by the openssl command line at test time (build-notes pitfall 4).
class CertIdTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::random_device rd;
    dir_ = fs::temp_directory_path() /
           ("certretry-ari-" + std::to_string(rd()) + "-" + std::to_string(rd()));
    fs::create_directories(dir_);
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Runs openssl req -x509 with a P-256 key; returns the PEM written, or "" on failure.
  static std::string make_cert(const std::string& name, const std::string& args) {
    const fs::path out = dir_ / (name + ".pem");
    const std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
        "-nodes -subj /CN=example " +
        args + " -keyout '" + (dir_ / (name + ".key")).string() + "' -out '" + out.string() +
        "' >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) return {};
    return read_file(out);
  }

  static std::vector<unsigned char> to_der(const std::string& name) {
    const fs::path in = dir_ / (name + ".pem"), out = dir_ / (name + ".der");
    const std::string cmd = "openssl x509 -in '" + in.string() + "' -outform DER -out '" +
                            out.string() + "' >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) return {};
    return bytes_of(read_file(out));
  }

  static constexpr const char* rfc_args =
      "-set_serial 0x87654321 "
      "-addext subjectKeyIdentifier=69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4 "
      "-addext authorityKeyIdentifier=keyid:always";

  static inline fs::path dir_;
};

// RFC 9773 §4.1's example: keyIdentifier 69:88:5B:... and serial 0x87654321, whose DER content
// is 00 87 65 43 21 because the top bit is set.
TEST_F(CertIdTest, Rfc9773ExampleFromPem) {
  const std::string pem = make_cert("rfc", rfc_args);
  ASSERT_FALSE(pem.empty()) << "openssl req failed";
  const auto id = cert_id_from_pem(pem);
  ASSERT_TRUE(id) << id.error().message();
  EXPECT_EQ(id.value(), "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
}

TEST_F(CertIdTest, Rfc9773ExampleFromDer) {
  ASSERT_FALSE(make_cert("rfcder", rfc_args).empty());
  const auto der = to_der("rfcder");
  ASSERT_FALSE(der.empty());
  const auto id = cert_id_from_der(der);
  ASSERT_TRUE(id) << id.error().message();
  EXPECT_EQ(id.value(), "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");

  auto trailing = der;
  trailing.push_back(0);
  EXPECT_EQ(cert_id_from_der(trailing).error(), errc::certificate_unreadable);
  const std::span<const unsigned char> truncated{der.data(), der.size() - 1};
  EXPECT_EQ(cert_id_from_der(truncated).error(), errc::certificate_unreadable);
}

TEST_F(CertIdTest, SerialWithoutTopBitHasNoLeadingZero) {
  const std::string pem = make_cert(
      "small",
      "-set_serial 0x12345678 "
      "-addext subjectKeyIdentifier=69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4 "
      "-addext authorityKeyIdentifier=keyid:always");
  ASSERT_FALSE(pem.empty());
  const auto id = cert_id_from_pem(pem);
  ASSERT_TRUE(id) << id.error().message();
  EXPECT_EQ(id.value(), "aYhba4dGQEHhs3uEe6CuLN4ByNQ.EjRWeA");  // 12 34 56 78
}

TEST_F(CertIdTest, CertificateWithoutAkiLacksAki) {
  // A config with no extension sections: the certificate carries no extensions at all.
  {
    std::ofstream cnf(dir_ / "min.cnf");
    cnf << "[req]\ndistinguished_name=dn\n[dn]\n";
  }
  const std::string pem =
      make_cert("noaki", "-config '" + (dir_ / "min.cnf").string() + "' -set_serial 7");
  ASSERT_FALSE(pem.empty());
  EXPECT_EQ(cert_id_from_pem(pem).error(), errc::certificate_lacks_aki);
  const auto der = to_der("noaki");
  ASSERT_FALSE(der.empty());
  EXPECT_EQ(cert_id_from_der(der).error(), errc::certificate_lacks_aki);
}

TEST(CertId, GarbageIsNotACertificate) {
  EXPECT_EQ(cert_id_from_pem("").error(), errc::certificate_unreadable);
  EXPECT_EQ(cert_id_from_pem("hello").error(), errc::certificate_unreadable);
  EXPECT_EQ(
      cert_id_from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").error(),
      errc::certificate_unreadable);
  EXPECT_EQ(cert_id_from_der(bytes_of("")).error(), errc::certificate_unreadable);
  EXPECT_EQ(cert_id_from_der(bytes_of("\x30\x03\x02\x01\x01")).error(),
            errc::certificate_unreadable);
  // Nothing is left on OpenSSL's error queue for the caller to trip over.
  EXPECT_EQ(ERR_peek_error(), 0UL);
}

TEST(CertId, OversizedInputIsRefused) {
  const std::string big(certretry::acme::max_certificate_bytes + 1, 'A');
  EXPECT_EQ(cert_id_from_pem(big).error(), errc::certificate_too_large);
  EXPECT_EQ(cert_id_from_der(bytes_of(big)).error(), errc::certificate_too_large);
}

// RFC 4648 §10's vectors in the URL alphabet, padding dropped.
TEST(Base64url, Rfc4648Vectors) {
  EXPECT_EQ(base64url(bytes_of("")), "");
  EXPECT_EQ(base64url(bytes_of("f")), "Zg");
  EXPECT_EQ(base64url(bytes_of("fo")), "Zm8");
  EXPECT_EQ(base64url(bytes_of("foo")), "Zm9v");
  EXPECT_EQ(base64url(bytes_of("foob")), "Zm9vYg");
  EXPECT_EQ(base64url(bytes_of("fooba")), "Zm9vYmE");
  EXPECT_EQ(base64url(bytes_of("foobar")), "Zm9vYmFy");
}

TEST(Base64url, UrlAlphabet) {
  const std::array<unsigned char, 3> hi{0xfb, 0xff, 0xbf};  // "+/+/" in standard base64
  EXPECT_EQ(base64url(hi), "-_-_");
}

TEST(Base64url, Constexpr) {
  constexpr auto encodes = [] {
    constexpr std::array<unsigned char, 2> b{'f', 'o'};
    return base64url(b) == "Zm8";
  };
#if defined(__clang__) && __clang_major__ <= 14 && defined(__GLIBCXX__)
  // clang 14 cannot evaluate libstdc++'s std::string constructor in a constant expression
  // (llvm/llvm-project#51130); g++ checks the constexpr claim, clang the result.
  EXPECT_TRUE(encodes());
#else
  static_assert(encodes());
#endif
}

// --- RFC 9773 §4.2 window pick -------------------------------------------------------------

constexpr time_point t0{std::chrono::sys_days{std::chrono::year{2025} / 3 / 1}};

TEST(RenewalWindow, UniformOverTheWindow) {
  const certretry::acme::renewal_info info{t0, t0 + 10h, {}};
  certretry::splitmix64 rng(20250301);
  constexpr int draws = 10000, buckets = 10;
  std::array<int, buckets> count{};
  for (int i = 0; i < draws; ++i) {
    const time_point t = certretry::acme::pick_renewal_time(info, t0 - 1h, rng);
    ASSERT_GE(t, info.window_start);
    ASSERT_LT(t, info.window_end);
    ++count[static_cast<std::size_t>((t - t0) / 1h)];
  }
  double chi2 = 0;
  constexpr double expected = double{draws} / buckets;
  for (const int c : count) chi2 += (c - expected) * (c - expected) / expected;
  EXPECT_LT(chi2, 27.88);  // chi-square, df = 9, p = 0.001
}

TEST(RenewalWindow, EveryPickInsideHalfOpenWindow) {
  // A window one millisecond wide has exactly one possible pick: its start.
  const certretry::acme::renewal_info tiny{t0, t0 + 1ms, {}};
  const certretry::acme::renewal_info wide{t0, t0 + 30 * 24h, {}};
  certretry::splitmix64 rng(7);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(certretry::acme::pick_renewal_time(tiny, t0 - 1s, rng), t0);
    const time_point t = certretry::acme::pick_renewal_time(wide, t0 - 1s, rng);
    EXPECT_GE(t, wide.window_start);
    EXPECT_LT(t, wide.window_end);
  }
}

// A generator whose every draw is its maximum: uniform_unit gives its largest value below 1.
struct max_source {
  using result_type = std::uint64_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }
  result_type operator()() { return max(); }
};

TEST(RenewalWindow, LargestDrawStaysBeforeEnd) {
  max_source rng;
  const certretry::acme::renewal_info info{t0, t0 + 10h, {}};
  EXPECT_LT(certretry::acme::pick_renewal_time(info, t0, rng), info.window_end);
  // A window far wider than a double's 53-bit mantissa still excludes its end.
  for (const std::int64_t w :
       {std::int64_t{1} << 60, (std::int64_t{1} << 60) - 1, (std::int64_t{1} << 62) + 3}) {
    const certretry::acme::renewal_info huge{time_point{}, time_point{certretry::duration{w}}, {}};
    EXPECT_LT(certretry::acme::pick_renewal_time(huge, time_point{}, rng), huge.window_end);
  }
}

TEST(RenewalWindow, WindowInThePastMeansNow) {
  const certretry::acme::renewal_info info{t0, t0 + 1h, {}};
  const time_point now = t0 + 2h;
  certretry::splitmix64 rng(3);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(certretry::acme::pick_renewal_time(info, now, rng), now);
}

TEST(RenewalWindow, WindowContainingNowIsNeverBeforeNow) {
  const certretry::acme::renewal_info info{t0, t0 + 10h, {}};
  const time_point now = t0 + 5h;
  certretry::splitmix64 rng(11);
  int immediate = 0, later = 0;
  for (int i = 0; i < 2000; ++i) {
    const time_point t = certretry::acme::pick_renewal_time(info, now, rng);
    ASSERT_GE(t, now);
    ASSERT_LT(t, info.window_end);
    (t == now ? immediate : later)++;
  }
  // Half the window is past: about half the picks mean "renew now".
  EXPECT_GT(immediate, 800);
  EXPECT_GT(later, 800);
}

TEST(RenewalWindow, SameSeedSamePick) {
  const certretry::acme::renewal_info info{t0, t0 + 48h, {}};
  certretry::splitmix64 a(42), b(42);
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(certretry::acme::pick_renewal_time(info, t0, a),
              certretry::acme::pick_renewal_time(info, t0, b));
}

// --- RFC 9773 §4.3 Retry-After clamp -------------------------------------------------------

TEST(AriRetryAfter, ClampsToOneMinuteAndOneDay) {
  using certretry::acme::clamp_ari_retry_after;
  static_assert(clamp_ari_retry_after(0ms) == 1min);
  EXPECT_EQ(clamp_ari_retry_after(0ms), 1min);
  EXPECT_EQ(clamp_ari_retry_after(-5s), 1min);
  EXPECT_EQ(clamp_ari_retry_after(59s), 1min);
  EXPECT_EQ(clamp_ari_retry_after(1min), 1min);
  EXPECT_EQ(clamp_ari_retry_after(6h), 6h);
  EXPECT_EQ(clamp_ari_retry_after(24h), 24h);
  EXPECT_EQ(clamp_ari_retry_after(24h + 1ms), 24h);
  EXPECT_EQ(clamp_ari_retry_after(365 * 24h), 24h);
  EXPECT_EQ(clamp_ari_retry_after(30s, 10s, 20s), 20s);
  EXPECT_EQ(clamp_ari_retry_after(5s, 10s, 20s), 10s);
}

}  // namespace
