# baton-bench-privacy: CPU time of one Rényi-DP accountant call, what a node
# will pay per SaveRequest once the ledger checks ε (issue 14).
add_executable(baton-bench-privacy ${CMAKE_CURRENT_LIST_DIR}/privacy_bench.cpp)
target_link_libraries(baton-bench-privacy PRIVATE baton_api baton_chain)
