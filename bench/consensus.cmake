# baton-bench-consensus: N real batond processes on loopback (deploy/testnet.sh)
# driven through the admin API: commit latency p50/p99 under light load,
# committed tx/s under sustained load, RSS. Figures in docs/BENCHMARKS.md,
# "Consensus and network".
add_executable(baton-bench-consensus ${CMAKE_CURRENT_LIST_DIR}/consensus_bench.cpp)
target_link_libraries(baton-bench-consensus PRIVATE baton_api nlohmann_json::nlohmann_json Threads::Threads)
target_compile_definitions(baton-bench-consensus PRIVATE BATON_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                                                         BATON_BIN_DIR="${CMAKE_RUNTIME_OUTPUT_DIRECTORY}")
add_dependencies(baton-bench-consensus baton batond baton-linkem)
