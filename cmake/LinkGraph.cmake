# The link graph of README "Libraries and the link graph", checked at
# configure time: each of our libraries and programs may link only the
# libraries of ours listed for it here (directly, PUBLIC or PRIVATE), so an
# arrow in the wrong direction (p2p -> node, agent -> node, a cycle) stops
# cmake with a sentence instead of slipping in. Targets of tests/ and bench/
# are not checked. A new arrow is added here and in README together.
set(BATON_LINKS_baton_chain "")
set(BATON_LINKS_baton_storage baton_chain)
set(BATON_LINKS_baton_consensus baton_chain)
set(BATON_LINKS_baton_p2p baton_chain)
set(BATON_LINKS_baton_secagg baton_chain)
set(BATON_LINKS_baton_learning_core baton_chain)
set(BATON_LINKS_baton_learning baton_learning_core baton_secagg)
set(BATON_LINKS_baton_api baton_chain baton_storage)
set(BATON_LINKS_baton_node baton_chain baton_storage baton_consensus baton_p2p baton_api)
set(BATON_LINKS_baton_agent baton_api baton_consensus baton_learning baton_secagg)
set(BATON_LINKS_batond baton_node)
set(BATON_LINKS_baton-agent baton_agent)
set(BATON_LINKS_baton baton_chain baton_storage baton_consensus baton_api baton_learning_core)
set(BATON_LINKS_baton-learn baton_chain baton_storage baton_learning baton_agent)
set(BATON_LINKS_baton_linkem "")
set(BATON_LINKS_baton-linkem baton_linkem)

# The libraries of ours `target` links directly, PUBLIC or PRIVATE.
function(baton_direct_links target out)
  get_target_property(links ${target} LINK_LIBRARIES)
  set(ours "")
  foreach(lib IN LISTS links)
    if(lib MATCHES "^baton_" AND NOT lib STREQUAL "baton_rocksdb")
      list(APPEND ours ${lib})
    endif()
  endforeach()
  set(${out} ${ours} PARENT_SCOPE)
endfunction()

function(baton_check_link_graph)
  set(checked baton_chain baton_storage baton_consensus baton_p2p baton_secagg baton_learning_core
              baton_learning baton_api baton_node baton_agent batond baton-agent baton baton-learn
              baton_linkem baton-linkem)
  foreach(target IN LISTS checked)
    if(NOT TARGET ${target})
      continue()  # not configured (e.g. -DBATON_WITH_TORCH=OFF)
    endif()
    baton_direct_links(${target} links)
    foreach(lib IN LISTS links)
      if(NOT lib IN_LIST BATON_LINKS_${target})
        message(FATAL_ERROR "${target} links ${lib}, an arrow the link graph does not have "
                            "(README \"Libraries and the link graph\"); depend the other way, "
                            "or add the arrow to cmake/LinkGraph.cmake and README together")
      endif()
    endforeach()
  endforeach()
endfunction()
