# The build's identity for `--version` (api/version.h): the project version
# and the git commit of the source tree, read once at configure time. A tree
# that is not its own git checkout (a release tarball, a clone without .git,
# or no git installed) says "unknown"; so does a tree that merely sits inside
# another repository. Re-run cmake to refresh the commit after new commits.
set(BATON_GIT_COMMIT "unknown")
find_package(Git QUIET)
if(GIT_FOUND)
  execute_process(
    COMMAND ${GIT_EXECUTABLE} rev-parse --show-toplevel
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    RESULT_VARIABLE baton_git_rc
    OUTPUT_VARIABLE baton_git_top
    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  file(REAL_PATH "${PROJECT_SOURCE_DIR}" baton_source_real)
  if(baton_git_rc EQUAL 0)
    file(REAL_PATH "${baton_git_top}" baton_git_top)
  endif()
  if(baton_git_rc EQUAL 0 AND baton_git_top STREQUAL baton_source_real)
    execute_process(
      COMMAND ${GIT_EXECUTABLE} rev-parse HEAD
      WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
      RESULT_VARIABLE baton_git_rc
      OUTPUT_VARIABLE baton_git_head
      OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(baton_git_rc EQUAL 0 AND baton_git_head MATCHES "^[0-9a-f]+$")
      set(BATON_GIT_COMMIT "${baton_git_head}")
    endif()
  endif()
endif()
message(STATUS "baton ${PROJECT_VERSION}, git commit ${BATON_GIT_COMMIT}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/build_info.h.in
               ${PROJECT_BINARY_DIR}/generated/baton_build_info.h @ONLY)
