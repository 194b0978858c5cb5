# baton-bench-secagg: the cost of secure aggregation (secagg/) over plain
# fixed-point FedAvg per round, for the demo's MLP and the 3D ResNet-18
# (issue 15; figures in docs/BENCHMARKS.md, "Secure aggregation"). The float
# counts come from the torch-free model layout (baton_learning_core).
add_executable(baton-bench-secagg ${CMAKE_CURRENT_LIST_DIR}/secagg_bench.cpp)
target_link_libraries(baton-bench-secagg PRIVATE baton_api baton_secagg baton_learning_core)
