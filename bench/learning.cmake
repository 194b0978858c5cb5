# Learning benchmarks (figures in docs/BENCHMARKS.md, "Learning"). The MLP
# training benchmark is `baton bench train` (tools/cmd_experiment.cpp) with its
# python3-torch peer bench/python/train_breast_cancer.py.
add_executable(baton_bench_resnet3d ${CMAKE_CURRENT_SOURCE_DIR}/resnet3d_bench.cpp)
target_link_libraries(baton_bench_resnet3d PRIVATE baton_api baton_learning)
