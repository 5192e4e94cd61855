#!/usr/bin/env node
// Builds the optional Gloo addon (training across processes and hosts) with
// node-gyp against Debian's libgloo-dev. It never fails the install: where a
// prerequisite is missing it says what to install, writes that to
// build/unavailable.txt for rxkeras to repeat when a distributed run is asked
// for, and exits 0. Rerun it by hand after installing what was missing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const prefix = process.env.RXKERAS_GLOO_PREFIX || '/usr';
const nodedir = dirname(dirname(process.execPath));
const build = join(here, 'build');
const addon = join(build, 'Release', 'rxkeras_gloo.node');
const stampFile = join(build, 'stamp.json');
const INSTALL = 'apt-get install -y libgloo-dev g++ make python3';

const runs = (command, args) => spawnSync(command, args, { stdio: 'ignore' }).status === 0;

function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(nodedir, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((path) => path && existsSync(path));
}

function missing() {
  const absent = [];
  if (!existsSync(join(prefix, 'include', 'gloo', 'rendezvous', 'redis_store.h')) || !existsSync(join(prefix, 'lib', 'libgloo.so'))) {
    absent.push(`libgloo-dev (no Gloo headers and library under ${prefix})`);
  }
  if (!existsSync(join(prefix, 'include', 'hiredis', 'hiredis.h'))) absent.push('libhiredis-dev');
  if (!runs(process.env.CXX || 'g++', ['--version'])) absent.push('g++ (a C++17 compiler)');
  if (!runs('make', ['--version'])) absent.push('make');
  if (!runs('python3', ['--version'])) absent.push('python3 (for node-gyp)');
  if (!existsSync(join(nodedir, 'include', 'node', 'node_api.h'))) absent.push(`the Node.js headers (expected in ${join(nodedir, 'include', 'node')})`);
  if (!nodeGyp()) absent.push("node-gyp (npm's own copy, or npm install -g node-gyp)");
  return absent;
}

function unavailable(why) {
  const text =
    `the optional Gloo addon was not built: ${why}.\n` +
    `rxkeras trains on one machine without it. To train across processes and hosts, install what is missing\n` +
    `(Debian/Ubuntu: ${INSTALL}, and redis-server for a Redis store), then build it: node ${join(here, 'build.mjs')}\n`;
  mkdirSync(build, { recursive: true });
  writeFileSync(join(build, 'unavailable.txt'), text);
  process.stderr.write(`rxkeras: ${text}`);
  process.exit(0);
}

// Rebuild only when the sources, the Gloo prefix or Node's ABI changed since the last build.
const sources = ['binding.gyp', ...readdirSync(join(here, 'src')).map((f) => join('src', f))].sort();
const stamp = JSON.stringify({ abi: process.versions.modules, prefix, sources: sources.map((f) => [f, statSync(join(here, f)).mtimeMs]) });
if (existsSync(addon) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) process.exit(0);

const absent = missing();
if (absent.length > 0) unavailable(`missing ${absent.join(', ')}`);

process.stderr.write('rxkeras: building the Gloo addon (native/gloo) ...\n');
const result = spawnSync(process.execPath, [nodeGyp(), 'rebuild', `--nodedir=${nodedir}`, '--jobs=2'], {
  cwd: here,
  encoding: 'utf8',
  env: { ...process.env, RXKERAS_GLOO_PREFIX: prefix },
});
if (result.status !== 0) {
  const log = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
  unavailable(`node-gyp failed:\n${log}`);
}
writeFileSync(stampFile, stamp);
