{
  "variables": { "gloo_prefix%": "<!(node -p \"process.env.RXKERAS_GLOO_PREFIX || '/usr'\")" },
  "targets": [
    {
      "target_name": "rxkeras_gloo",
      "sources": ["src/addon.cc", "src/group.cc", "src/liveness.cc", "src/host_memory.cc"],
      "include_dirs": ["<(gloo_prefix)/include"],
      "libraries": ["-L<(gloo_prefix)/lib", "-Wl,-rpath,<(gloo_prefix)/lib", "-lgloo", "-lhiredis"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions", "-frtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "defines": ["NAPI_VERSION=8", "HIREDIS_NESTED_INCLUDE"]
    }
  ]
}
