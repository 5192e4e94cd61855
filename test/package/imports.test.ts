import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const ROOT = new URL('../../', import.meta.url).pathname;
const depcruise = (...paths: string[]) =>
  spawnSync(process.execPath, ['node_modules/dependency-cruiser/bin/dependency-cruise.mjs', ...paths, '--output-type', 'err'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

// `npm test` runs the same check over src/ and streams/ before the tests.
test('the import check rejects a cycle, even through a type-only import', () => {
  const r = depcruise('test/fixtures/import-cycle');
  assert.notEqual(r.status, 0, r.stdout);
  assert.match(r.stdout, /no-circular: test\/fixtures\/import-cycle\/(a|b)\.ts/);
});
