# edgewatch_target_options(<target>): warnings and sanitizers for edgewatch's own code only.
function(edgewatch_target_options target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-missing-field-initializers
                                           $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local>
                                           $<$<CXX_COMPILER_ID:Clang>:-Wshadow-uncaptured-local>)
  if(EDGEWATCH_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
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
