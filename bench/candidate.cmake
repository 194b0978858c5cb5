# baton-bench-candidate: what a malicious candidate costs a voter (issue 11,
# section 6): evaluation of models with denormal weights or denormal
# intermediates with flush-to-zero off (the code before) and on (now), the
# evaluation budget the plan gives them, and the MAC rates the budget assumes.
# Figures in docs/BENCHMARKS.md, "Candidate evaluation".
add_executable(baton-bench-candidate ${CMAKE_CURRENT_LIST_DIR}/candidate_bench.cpp)
target_link_libraries(baton-bench-candidate PRIVATE baton_agent)
