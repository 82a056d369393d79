# edgewatch_target_options(<target>): warnings and sanitizers for edgewatch's own code only.
function(edgewatch_target_options target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-missing-field-initializers
                                           $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local>
                                           $<$<CXX_COMPILER_ID:Clang>:-Wshadow-uncaptured-local>)
  if(EDGEWATCH_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
    # GCC 12 reports false -Wrestrict overlaps inside libstdc++'s std::string operator+ when
    # optimising (GCC bug 105329, fixed in GCC 13): keep it a warning, not an error, there.
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12
       AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
      target_compile_options(${target} PRIVATE -Wno-error=restrict)
    endif()
  endif()
  if(EDGEWATCH_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
                                             -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
  if(EDGEWATCH_FUZZ)
    # libFuzzer coverage instrumentation for all of edgewatch's code; the fuzz executables add the
    # libFuzzer runtime and main() themselves (tests/fuzz/CMakeLists.txt).
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link,address,undefined
                                             -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()
