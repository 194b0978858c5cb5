# baton-bench-handoff: per hand-off time in the object store, seal/open crypto
# and evaluation (agent/model_handoff.h) against local training, for the MLP
# (breast_cancer) and the 3D ResNet-18 on synthetic volumes. Figures in
# docs/BENCHMARKS.md, "Hand-off".
add_executable(baton-bench-handoff ${CMAKE_CURRENT_LIST_DIR}/handoff_bench.cpp)
target_link_libraries(baton-bench-handoff PRIVATE baton_agent)
target_compile_definitions(baton-bench-handoff PRIVATE BATON_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
