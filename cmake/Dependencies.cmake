# Every dependency comes from a Debian package; nothing is downloaded.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(Protobuf REQUIRED)
# Debian's RocksDB CMake config drags in a broken gflags target; link the
# shared library directly instead.
find_library(ROCKSDB_LIBRARY NAMES rocksdb REQUIRED)
find_path(ROCKSDB_INCLUDE_DIR rocksdb/db.h REQUIRED)
add_library(baton_rocksdb INTERFACE)
target_link_libraries(baton_rocksdb INTERFACE ${ROCKSDB_LIBRARY})
target_include_directories(baton_rocksdb INTERFACE ${ROCKSDB_INCLUDE_DIR})
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(CRYPTOPP REQUIRED IMPORTED_TARGET libcrypto++)
find_package(CURL REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(spdlog REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(GTest REQUIRED)
find_package(benchmark REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS system)
find_package(tomlplusplus REQUIRED)
if(BATON_WITH_TORCH)
  find_package(Torch REQUIRED)
endif()

# baton_protobuf_sources(OUT_VAR proto...) generates C++ for .proto files with
# the repository root as the import root, so a file at chain/proto/x.proto is
# imported as "chain/proto/x.proto" and included as "chain/proto/x.pb.h".
function(baton_protobuf_sources out_var)
  set(generated)
  foreach(proto ${ARGN})
    file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${proto})
    string(REGEX REPLACE "\\.proto$" "" stem ${rel})
    set(cc ${PROJECT_BINARY_DIR}/${stem}.pb.cc)
    set(h ${PROJECT_BINARY_DIR}/${stem}.pb.h)
    add_custom_command(
      OUTPUT ${cc} ${h}
      COMMAND protobuf::protoc -I ${PROJECT_SOURCE_DIR} --cpp_out=${PROJECT_BINARY_DIR} ${rel}
      DEPENDS ${proto} protobuf::protoc
      WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
      COMMENT "protoc ${rel}"
      VERBATIM)
    list(APPEND generated ${cc} ${h})
  endforeach()
  set(${out_var} ${generated} PARENT_SCOPE)
endfunction()
