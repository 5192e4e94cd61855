#!/usr/bin/env node
// Builds the optional ONNX Runtime addon (compiled steps run without
// onnxruntime-node's copy of every output) with node-gyp, linked against the
// libonnxruntime.so.1 that onnxruntime-node ships (see ../addon-build.mjs).
// Rerun it by hand after installing what was missing.
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAddon } from '../addon-build.mjs';

const here = dirname(fileURLToPath(import.meta.url));

/** onnxruntime-node's folder of native binaries for this platform, and its version. */
function onnxruntime() {
  try {
    const manifest = createRequire(join(here, '..', '..', 'package.json')).resolve('onnxruntime-node/package.json');
    const bin = join(dirname(manifest), 'bin');
    const napi = existsSync(bin) ? readdirSync(bin).filter((d) => d.startsWith('napi-v')).sort() : [];
    const lib = napi.map((d) => join(bin, d, process.platform, process.arch)).find((d) => existsSync(join(d, 'libonnxruntime.so.1')));
    return { lib, version: createRequire(import.meta.url)(manifest).version };
  } catch {
    return {};
  }
}

const { lib, version } = onnxruntime();

buildAddon({
  dir: here,
  title: 'ONNX Runtime addon',
  target: 'rxkeras_ort_session',
  missing: () => (lib ? [] : [`onnxruntime-node's libonnxruntime.so.1 for ${process.platform}-${process.arch} (npm ci installs it)`]),
  without:
    "rxkeras runs compiled steps through onnxruntime-node's binding without it (the same numbers; every output copied).\n" +
    'To build it, install what is missing (Debian/Ubuntu: apt-get install -y g++ make python3),',
  env: { RXKERAS_ORT_LIB_DIR: lib ?? '' },
  inputs: { lib, version },
});
