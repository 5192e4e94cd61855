// Builds one of rxkeras's optional N-API addons with node-gyp. It never fails
// the install: where a prerequisite is missing it says what to install, writes
// that to build/unavailable.txt for rxkeras to repeat when the addon is asked
// for, and exits 0. A build is redone only when its sources, its inputs or
// Node's ABI changed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const nodedir = dirname(dirname(process.execPath));

const runs = (command, args) => spawnSync(command, args, { stdio: 'ignore' }).status === 0;

function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(nodedir, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((path) => path && existsSync(path));
}

/** What any addon build needs and this machine lacks. */
function toolchainMissing() {
  const absent = [];
  if (!runs(process.env.CXX || 'g++', ['--version'])) absent.push('g++ (a C++17 compiler)');
  if (!runs('make', ['--version'])) absent.push('make');
  if (!runs('python3', ['--version'])) absent.push('python3 (for node-gyp)');
  if (!existsSync(join(nodedir, 'include', 'node', 'node_api.h'))) absent.push(`the Node.js headers (expected in ${join(nodedir, 'include', 'node')})`);
  if (!nodeGyp()) absent.push("node-gyp (npm's own copy, or npm install -g node-gyp)");
  return absent;
}

/**
 * Builds the addon in `dir` (binding.gyp, src/) to build/Release/`target`.node.
 * `title` names it in messages; `missing` lists its own absent prerequisites;
 * `without` says what rxkeras does without it and how to get it; `env` and
 * `inputs` reach node-gyp and the rebuild check.
 */
export function buildAddon({ dir, title, target, missing = () => [], without, env = {}, inputs = {} }) {
  const build = join(dir, 'build');
  const addon = join(build, 'Release', `${target}.node`);
  const stampFile = join(build, 'stamp.json');
  const unavailable = (why) => {
    const text = `the optional ${title} was not built: ${why}.\n${without}\nthen build it: node ${join(dir, 'build.mjs')}\n`;
    mkdirSync(build, { recursive: true });
    writeFileSync(join(build, 'unavailable.txt'), text);
    process.stderr.write(`rxkeras: ${text}`);
    process.exit(0);
  };

  const sources = ['binding.gyp', ...readdirSync(join(dir, 'src')).map((f) => join('src', f))].sort();
  const stamp = JSON.stringify({ abi: process.versions.modules, inputs, sources: sources.map((f) => [f, statSync(join(dir, f)).mtimeMs]) });
  if (existsSync(addon) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) process.exit(0);

  const absent = [...missing(), ...toolchainMissing()];
  if (absent.length > 0) unavailable(`missing ${absent.join(', ')}`);

  process.stderr.write(`rxkeras: building the ${title} (${dir}) ...\n`);
  const result = spawnSync(process.execPath, [nodeGyp(), 'rebuild', `--nodedir=${nodedir}`, '--jobs=2'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  if (result.status !== 0) {
    const log = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    unavailable(`node-gyp failed:\n${log}`);
  }
  writeFileSync(stampFile, stamp);
}
