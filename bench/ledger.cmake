# baton-bench-ledger: raw Ed25519 verification rate (the physical reference),
# synced append rate and whole-chain verification rate of the ledger store;
# with --restart, the node's restart time with and without state snapshots.
add_executable(baton-bench-ledger ${CMAKE_CURRENT_LIST_DIR}/ledger_bench.cpp
                                  ${CMAKE_CURRENT_LIST_DIR}/ledger_restart.cpp
                                  ${CMAKE_CURRENT_LIST_DIR}/ledger_join.cpp)
target_link_libraries(baton-bench-ledger PRIVATE baton_node baton_api baton_storage baton_chain
                                                 Threads::Threads)
