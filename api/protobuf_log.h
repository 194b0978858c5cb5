// Where libprotobuf's own log messages go. By default libprotobuf writes them
// to stderr, e.g. "String field 'baton.chain.pb.Transaction.chain_id' contains
// invalid UTF-8 data when parsing a protocol buffer" for bytes a peer sent; a
// peer must not be able to make a node write to stderr at will, nor a garbage
// file make the CLI print more than its one sentence.
//
// Both functions replace a process-wide handler (libprotobuf has no other
// hook): call them from main(), before threads that parse protobuf start.
#pragma once

#include <memory>

#include <spdlog/logger.h>

namespace baton::api {

// batond: messages go to `log` at debug level (a FATAL one, which libprotobuf
// follows by aborting, at critical). Keeps `log` alive for the process.
void send_protobuf_logs_to(std::shared_ptr<spdlog::logger> log);

// baton: messages are dropped (a FATAL one still goes to stderr).
void drop_protobuf_logs();

}  // namespace baton::api
