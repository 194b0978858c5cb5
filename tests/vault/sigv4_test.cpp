// SigV4 against AWS's published examples. s3rver does not check signatures,
// so these vectors are what stands between us and a real S3 refusing every
// request. Source: Amazon S3 API Reference, "Signature Calculations for the
// Authorization Header: Transferring Payload in a Single Chunk (AWS Signature
// Version 4)", examples GET Object, PUT Object, GET Bucket Lifecycle and
// GET Bucket (List Objects); and the AWS SigV4 test suite ("get-vanilla",
// "get-vanilla-query-order-key-case").
#include <gtest/gtest.h>

#include "storage/sigv4.h"

namespace baton::storage::sigv4 {
namespace {

const Credentials kS3DocCreds{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                              "us-east-1", "s3"};
constexpr std::string_view kS3DocDate = "20130524T000000Z";

Request s3_doc_request(std::string method, std::string path,
                       std::vector<std::pair<std::string, std::string>> query,
                       std::string payload) {
  Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.query = std::move(query);
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"x-amz-date", std::string(kS3DocDate)},
               {"x-amz-content-sha256", payload}};
  r.payload_sha256 = std::move(payload);
  return r;
}

TEST(SigV4, S3DocGetObjectWithRange) {
  Request r = s3_doc_request("GET", "/test.txt", {}, std::string(kEmptyPayloadSha256));
  r.headers.emplace_back("Range", "bytes=0-9");
  EXPECT_EQ(
      canonical_request(r),
      "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
      "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
      "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(string_to_sign(r, kS3DocCreds, kS3DocDate),
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(authorization(r, kS3DocCreds, kS3DocDate),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, S3DocPutObjectEncodesDollarInKey) {
  const std::string payload = sha256_hex(chain::as_bytes("Welcome to Amazon S3."));
  ASSERT_EQ(payload, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  Request r = s3_doc_request("PUT", "/test$file.text", {}, payload);
  r.headers.emplace_back("Date", "Fri, 24 May 2013 00:00:00 GMT");
  r.headers.emplace_back("x-amz-storage-class", "REDUCED_REDUNDANCY");
  EXPECT_EQ(canonical_request(r).substr(0, 22), "PUT\n/test%24file.text\n");
  EXPECT_EQ(string_to_sign(r, kS3DocCreds, kS3DocDate).substr(69),
            "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  EXPECT_EQ(signature(r, kS3DocCreds, kS3DocDate),
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
  EXPECT_EQ(signed_headers(r), "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
}

TEST(SigV4, S3DocGetBucketLifecycleHasEmptyQueryValue) {
  Request r = s3_doc_request("GET", "/", {{"lifecycle", ""}}, std::string(kEmptyPayloadSha256));
  EXPECT_EQ(canonical_query(r.query), "lifecycle=");
  EXPECT_EQ(signature(r, kS3DocCreds, kS3DocDate),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4, S3DocListObjectsSortsQuery) {
  Request r = s3_doc_request("GET", "/", {{"prefix", "J"}, {"max-keys", "2"}},
                             std::string(kEmptyPayloadSha256));
  EXPECT_EQ(canonical_query(r.query), "max-keys=2&prefix=J");
  EXPECT_EQ(string_to_sign(r, kS3DocCreds, kS3DocDate).substr(69),
            "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7");
  EXPECT_EQ(signature(r, kS3DocCreds, kS3DocDate),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

// The generic SigV4 test suite (service "service", no payload header).
const Credentials kSuiteCreds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                              "us-east-1", "service"};

TEST(SigV4, SuiteGetVanilla) {
  Request r;
  r.method = "GET";
  r.path = "/";
  r.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
  r.payload_sha256 = std::string(kEmptyPayloadSha256);
  EXPECT_EQ(signature(r, kSuiteCreds, "20150830T123600Z"),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4, SuiteGetVanillaQueryOrderKeyCase) {
  Request r;
  r.method = "GET";
  r.path = "/";
  r.query = {{"Param2", "value2"}, {"Param1", "value1"}};
  r.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
  r.payload_sha256 = std::string(kEmptyPayloadSha256);
  EXPECT_EQ(signature(r, kSuiteCreds, "20150830T123600Z"),
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(SigV4, UriEncodeKeepsUnreservedAndSlashOnlyWhenAsked) {
  EXPECT_EQ(uri_encode("a-b_c.d~e/f g+h", true), "a-b_c.d~e/f%20g%2Bh");
  EXPECT_EQ(uri_encode("a/b", false), "a%2Fb");
}

TEST(SigV4, HostHeaderIsWhatAnHttpClientSendsWithoutTheDefaultPort) {
  EXPECT_EQ(host_header("https://examplebucket.s3.amazonaws.com:443"),
            "examplebucket.s3.amazonaws.com");
  EXPECT_EQ(host_header("http://minio.lan:80/"), "minio.lan");
  EXPECT_EQ(host_header("HTTP://MinIO.lan:80"), "minio.lan");
  EXPECT_EQ(host_header("https://minio.lan:9000/prefix"), "minio.lan:9000");
  EXPECT_EQ(host_header("http://minio.lan:443"), "minio.lan:443");  // not http's default
  EXPECT_EQ(host_header("https://minio.lan:80"), "minio.lan:80");
  EXPECT_EQ(host_header("http://127.0.0.1:9000"), "127.0.0.1:9000");
  EXPECT_EQ(host_header("http://[::1]:80"), "[::1]");
  EXPECT_EQ(host_header("http://[::1]:9000"), "[::1]:9000");
  EXPECT_EQ(host_header("https://user:secret@h.example:443/x"), "h.example");
  EXPECT_EQ(host_header("https://h.example"), "h.example");
}

TEST(SigV4, AnEndpointWrittenWithItsDefaultPortSignsAwsCanonicalHost) {
  // AWS's GET Object example signs "host:examplebucket.s3.amazonaws.com";
  // an endpoint written as https://examplebucket.s3.amazonaws.com:443 must
  // sign exactly that (the wire carries no ":443"), not "...:443".
  Request r = s3_doc_request("GET", "/test.txt", {}, std::string(kEmptyPayloadSha256));
  r.headers[0] = {"host", host_header("https://examplebucket.s3.amazonaws.com:443")};
  r.headers.emplace_back("Range", "bytes=0-9");
  EXPECT_NE(canonical_request(r).find("\nhost:examplebucket.s3.amazonaws.com\n"),
            std::string::npos);
  EXPECT_EQ(signature(r, kS3DocCreds, kS3DocDate),
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, AmzDateIsUtc) { EXPECT_EQ(amz_date(1369353600), "20130524T000000Z"); }

}  // namespace
}  // namespace baton::storage::sigv4
