{
  "variables": { "ort_lib_dir%": "<!(node -p \"process.env.RXKERAS_ORT_LIB_DIR\")" },
  "targets": [
    {
      "target_name": "rxkeras_ort_session",
      "sources": ["src/addon.cc", "src/custom-ops.cc", "src/max-pool-grad.cc", "src/filter-patches.cc", "src/patches-add.cc", "src/fused-update.cc", "src/fused-update-binding.cc"],
      "libraries": ["-L<(ort_lib_dir)", "-Wl,-rpath,<(ort_lib_dir)", "-l:libonnxruntime.so.1"],
      "cflags_cc": ["-std=c++17", "-O3"],
      "cflags_cc!": ["-std=gnu++17"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
