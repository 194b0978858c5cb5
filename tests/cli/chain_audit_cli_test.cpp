// docs/PROTOCOL.md claims a chain can be audited with SHA-256, Ed25519 and the
// .proto files alone. This test holds it to that: tests/chain/audit_export.py
// (python3 hashlib + PyNaCl, no Baton code) rechecks a chain made by
// `baton dev make-chain` and exported by `baton ledger export`, and must name
// the height of a byte flipped in the export.
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_fixture.h"

namespace baton::testing {
namespace {

namespace fs = std::filesystem;

RunResult audit(const fs::path& genesis, const fs::path& export_file) {
  return run_program("/usr/bin/python3",
                     {(source_dir() / "tests" / "chain" / "audit_export.py").string(),
                      genesis.string(), export_file.string()});
}

TEST(ChainAudit, IndependentPythonAuditorAgreesWithVerifyAndNamesATamperedHeight) {
  TempDir dir;
  // Unequal powers, so that the auditor must weigh the commit signatures.
  write_consortium(dir.path(), {.members = 4, .chain_id = "audit-1", .powers = {1, 1, 1, 2}});
  const RunResult made = make_chain(dir.path(), dir / "data", 12, 5, {"--json"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  auto exported = run_baton({"ledger", "export", "--data-dir", (dir / "data").string(), "--out",
                             (dir / "export.jsonl").string()});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;

  auto ok = audit(dir / "genesis.json", dir / "export.jsonl");
  ASSERT_EQ(ok.exit_code, 0)
      << "python3 with python3-nacl is needed (deploy/bootstrap.sh installs it): " << ok.err
      << ok.out;
  EXPECT_NE(ok.out.find("ok: 12 blocks, 60 transactions"), std::string::npos) << ok.out;
  auto verified = run_baton({"ledger", "verify", "--data-dir", (dir / "data").string(), "--json"});
  ASSERT_EQ(verified.exit_code, 0) << verified.err;
  const std::string tip = nlohmann::json::parse(verified.out)["tip"];
  EXPECT_NE(ok.out.find("tip " + tip), std::string::npos) << ok.out;

  // Flip one hex digit in the middle of block 7's stored bytes.
  std::ifstream in(dir / "export.jsonl");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 12u);
  auto block = nlohmann::json::parse(lines[6]);
  std::string hex = block["stored_hex"];
  const std::size_t i = hex.size() / 2;
  hex[i] = hex[i] == '0' ? '1' : '0';
  block["stored_hex"] = hex;
  lines[6] = block.dump();
  std::ofstream out(dir / "tampered.jsonl");
  for (const auto& l : lines) out << l << "\n";
  out.close();
  auto bad = audit(dir / "genesis.json", dir / "tampered.jsonl");
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_EQ(bad.out.rfind("height 7: ", 0), 0u) << bad.out << bad.err;
}

}  // namespace
}  // namespace baton::testing
