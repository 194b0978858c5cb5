# baton-bench-protocol: the cost of a block of refused protocol transactions
# on a long training history (issue 11).
add_executable(baton-bench-protocol ${CMAKE_CURRENT_LIST_DIR}/protocol_bench.cpp)
target_link_libraries(baton-bench-protocol PRIVATE baton_api baton_chain)
