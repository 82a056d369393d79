# edgewatch_target_options(<target>): warnings and sanitizers for edgewatch's own code only.
function(edgewatch_target_options target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wshadow=local -Wno-missing-field-initializers)
  if(EDGEWATCH_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(EDGEWATCH_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
                                             -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()
