# baton-bench-ledger: raw Ed25519 verification rate (the physical reference),
# synced append rate and whole-chain verification rate of the ledger store.
add_executable(baton-bench-ledger ${CMAKE_CURRENT_LIST_DIR}/ledger_bench.cpp)
target_link_libraries(baton-bench-ledger PRIVATE baton_api baton_storage baton_chain Threads::Threads)
