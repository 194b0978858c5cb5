# baton-bench-vault: seal/open throughput of 1 GiB beside `openssl speed -evp
# aes-256-gcm` (the physical reference), peak RSS, and S3 put/get of 256 MiB
# against s3rver beside `aws s3 cp`. Figures in docs/BENCHMARKS.md, "Vault and
# object store".
add_executable(baton-bench-vault ${CMAKE_CURRENT_LIST_DIR}/vault_bench.cpp)
target_link_libraries(baton-bench-vault PRIVATE baton_api baton_storage baton_chain Threads::Threads)
target_compile_definitions(baton-bench-vault PRIVATE BATON_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
