# Builds build/Release/rlaif_native.node: the N-API kernels, with the per-CPU-level code compiled three times
# (AVX-512, AVX2+FMA, generic x86-64) as static libraries and picked at run time, plus the AVX512_BF16 bf16 GEMV
# (level_bf16.c, used only when the CPU reports avx512bf16) and its AMX tiles (level_amx.c, used only when the CPU
# reports AMX-BF16 and Linux grants the tile state; built with the AMX flags only where the compiler knows them,
# scripts/cc-flags.mjs, else as stubs). Never -march=native.
{
  'target_defaults': {
    'cflags': ['-O3', '-fPIC', '-fno-math-errno', '-fno-trapping-math', '-Wno-unused-function', '-Wno-psabi'],
    'cflags_c': ['-std=gnu11'],
    'cflags!': ['-O2', '-O0'],
  },
  'targets': [
    {
      'target_name': 'rlaif_level_avx512',
      'type': 'static_library',
      'sources': ['native/level_gemm.c', 'native/level_ops.c'],
      'defines': ['RLAIF_LEVEL=avx512'],
      'cflags': ['-mavx512f', '-mavx512bw', '-mavx512dq', '-mavx512vl', '-mavx2', '-mfma', '-mprefer-vector-width=512'],
    },
    {
      'target_name': 'rlaif_level_avx2',
      'type': 'static_library',
      'sources': ['native/level_gemm.c', 'native/level_ops.c'],
      'defines': ['RLAIF_LEVEL=avx2'],
      'cflags': ['-mavx2', '-mfma'],
    },
    {
      'target_name': 'rlaif_level_generic',
      'type': 'static_library',
      'sources': ['native/level_gemm.c', 'native/level_ops.c'],
      'defines': ['RLAIF_LEVEL=generic'],
    },
    {
      'target_name': 'rlaif_bf16_avx512',
      'type': 'static_library',
      'sources': ['native/level_bf16.c'],
      'cflags': ['-mavx512f', '-mavx512bw', '-mavx512vl', '-mavx512bf16', '-mavx2', '-mfma'],
    },
    {
      'target_name': 'rlaif_amx',
      'type': 'static_library',
      'sources': ['native/level_amx.c'],
      'cflags': ['-mavx512f', '<!@(node scripts/cc-flags.mjs amx)'],
    },
    {
      'target_name': 'rlaif_native',
      'sources': ['native/binding.c', 'native/dispatch.c', 'native/pool.c', 'native/gemm.c', 'native/ops.c',
                  'native/finite.c'],
      'dependencies': ['rlaif_level_avx512', 'rlaif_level_avx2', 'rlaif_level_generic', 'rlaif_bf16_avx512', 'rlaif_amx'],
      'libraries': ['-lpthread', '-lm'],
    },
  ],
}
