#!/usr/bin/env node
// Builds the optional Gloo addon (training across processes and hosts) with
// node-gyp against Debian's libgloo-dev (see ../addon-build.mjs). Rerun it by
// hand after installing what was missing.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAddon } from '../addon-build.mjs';

const prefix = process.env.RXKERAS_GLOO_PREFIX || '/usr';

buildAddon({
  dir: dirname(fileURLToPath(import.meta.url)),
  title: 'Gloo addon',
  target: 'rxkeras_gloo',
  missing: () => {
    const absent = [];
    if (!existsSync(join(prefix, 'include', 'gloo', 'rendezvous', 'redis_store.h')) || !existsSync(join(prefix, 'lib', 'libgloo.so'))) {
      absent.push(`libgloo-dev (no Gloo headers and library under ${prefix})`);
    }
    if (!existsSync(join(prefix, 'include', 'hiredis', 'hiredis.h'))) absent.push('libhiredis-dev');
    return absent;
  },
  without:
    'rxkeras trains on one machine without it. To train across processes and hosts, install what is missing\n' +
    '(Debian/Ubuntu: apt-get install -y libgloo-dev g++ make python3, and redis-server for a Redis store),',
  env: { RXKERAS_GLOO_PREFIX: prefix },
  inputs: { prefix },
});
