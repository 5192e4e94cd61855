/**
 * The project stands alone: the README links and names only files inside
 * the repository, and its "Citing" section agrees with CITATION.cff.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const root = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

test('every link and every repository path the README names is a file inside the repository', () => {
  const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((l) => !/^[a-z]+:/.test(l) && !l.startsWith('#'));
  // Paths in code spans under the repository's own folders (not files a command writes, such as models/mnist-cnn.h5).
  const named = [...readme.matchAll(/`((?:\.\.\/|\.ci\/|docs\/|src\/|streams\/|examples\/|test\/|bench\/)[\w./-]*\w)`/g)].map((m) => m[1]);
  assert.ok(links.includes('CITATION.cff') && named.includes('streams/README.md'), 'the README names files');
  for (const target of [...links, ...named]) {
    const resolved = path.resolve(root, target.split('#')[0]);
    assert.ok(resolved.startsWith(root), `${target} points outside the repository`);
    assert.ok(existsSync(resolved), `${target} does not exist`);
  }
});

test("CITATION.cff is valid CFF 1.2 for this version, and the README's BibTeX cites rxkeras and Keras as Keras's FAQ asks", () => {
  const cff = YAML.parse(readFileSync(path.join(root, 'CITATION.cff'), 'utf8')) as Record<string, unknown> & { authors: unknown[]; references: { title: string; year: number }[] };
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string; license: string };
  for (const key of ['cff-version', 'message', 'title', 'authors']) assert.ok(key in cff, `CITATION.cff lacks ${key}`);
  assert.equal(cff['cff-version'], '1.2.0');
  assert.ok(cff.authors.length > 0);
  assert.equal(cff.version, pkg.version);
  assert.equal(cff.license, pkg.license);
  assert.deepEqual(cff.references.map((r) => [r.title, r.year]), [['Keras', 2015]]);

  const bibtex = readme.slice(readme.indexOf('## Citing')).match(/```bibtex\n([\s\S]*?)```/)?.[1] ?? '';
  assert.match(bibtex, new RegExp(`title = \\{${String(cff.title).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\}`));
  assert.match(bibtex, new RegExp(`version = \\{${pkg.version}\\}`));
  const keras = bibtex.slice(bibtex.indexOf('@misc{chollet2015keras'));
  const fields = Object.fromEntries([...keras.matchAll(/(\w+) = \{(.*)\},?\n/g)].map((m) => [m[1], m[2]]));
  assert.deepEqual(fields, {
    title: 'Keras',
    author: 'Chollet, Fran\\c{c}ois and others',
    year: '2015',
    publisher: 'GitHub',
    howpublished: '\\url{https://github.com/keras-team/keras}',
  });
});

test("the README's example of rxkeras/testing is the code test/testing/readme-example.test.ts runs", () => {
  const section = readme.slice(readme.indexOf('### Testing your own layers'));
  const shown = section.match(/```ts\n([\s\S]*?)```/)![1];
  const file = readFileSync(path.join(root, 'test/testing/readme-example.test.ts'), 'utf8');
  const run = file.slice(file.indexOf('// README example: begin\n') + '// README example: begin\n'.length, file.indexOf('// README example: end'));
  assert.equal(shown.replace(/^import .*\n/gm, '').trim(), run.trim());
  assert.match(shown, /from 'rxkeras\/testing'/);
});
