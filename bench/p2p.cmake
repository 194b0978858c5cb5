# baton-bench-p2p: the P2P transport on loopback (figures in
# docs/BENCHMARKS.md, "P2P transport"): frame sealing rate, handshake time,
# one-way throughput by message size, and round-trip latency.
add_executable(baton-bench-p2p ${CMAKE_CURRENT_LIST_DIR}/p2p_bench.cpp)
target_link_libraries(baton-bench-p2p PRIVATE baton_api baton_p2p Threads::Threads)
