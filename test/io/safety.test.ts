import { LambdaFunctionError } from '../../src/layers/lambda.js';
import { backendReady } from '../helpers/backend.js';
await backendReady;
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { ConfigDecodeError, Hdf5FormatError, RxKerasError, UnknownLayerError } from '../../src/core/errors.js';
import { Dense } from '../../src/layers/index.js';
import { Sequential } from '../../src/models/sequential.js';
import { loadModel, loadWeights, modelFromJSON, modelFromYAML, parseKerasYAML as parseYAML, saveModel, withH5Write } from '../../src/models/io.js';
import { FIXTURES } from './helpers.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rxkeras-io-safety-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
const eluModel = `${FIXTURES}dl4j/activations/ELU_0_model.h5`;
const eluConfig = fs.readFileSync(`${FIXTURES}dl4j/activations/ELU_0_config.json`, 'utf8');

test('wrong types in a config: ConfigDecodeError with the path of the bad field', () => {
  const c = JSON.parse(eluConfig);
  c.config.layers[0].config.units = 'many';
  assert.throws(() => modelFromJSON(c), (e: ConfigDecodeError) => e instanceof ConfigDecodeError && e.path === 'config.layers.0.config.units');
  const d = JSON.parse(eluConfig);
  d.config.layers = { not: 'a list' };
  assert.throws(() => modelFromJSON(d), (e: ConfigDecodeError) => e instanceof ConfigDecodeError && e.path === 'config.layers');
  assert.throws(() => modelFromJSON('{"class_name": "Sequential", '), (e: Error) => e instanceof ConfigDecodeError && /valid JSON/.test(e.message));
  assert.throws(() => modelFromJSON({ class_name: 42 }), (e: ConfigDecodeError) => e instanceof ConfigDecodeError && e.path === 'class_name');
  const f = {
    class_name: 'Model',
    config: {
      name: 'm',
      layers: [{ name: 'i', class_name: 'InputLayer', config: { batch_input_shape: [null, 2], name: 'i' }, inbound_nodes: [] }],
      input_layers: [['i', 0, 0]],
      output_layers: [['nope', 0, 0]],
    },
  };
  assert.throws(() => modelFromJSON(f), (e: ConfigDecodeError) => e instanceof ConfigDecodeError && e.path === 'config.output_layers.0');
});

test('unknown class names list the known ones and say how to register; Lambda is refused', () => {
  const c = JSON.parse(eluConfig);
  c.config.layers[1].class_name = 'Lambda';
  c.config.layers[1].config.function = ['4wEAAAAAAAAAAQAAAAQAAABTAAAAcwgAAAB8AGQBFABTACkCTukCAAAAqQApAdoBeHIBAAAAcgEAAAD6HjxpcHl0aG9uLWlucHV0LTItNjQ0NWRjNDkyNWU0PtoIPGxhbWJkYT4BAAAA8wAAAAA=', null, null];
  // Python bytecode is never run: the Lambda layer refuses it and says how to register a replacement.
  assert.throws(() => modelFromJSON(c), (e: Error) => e instanceof LambdaFunctionError && /registerLambda/.test(e.message));
  c.config.layers[1].class_name = 'NoSuchLayer';
  assert.throws(() => modelFromJSON(c), (e: Error) => e instanceof UnknownLayerError && /registerLayer\('NoSuchLayer'/.test(e.message) && /Dense/.test(e.message));
});

test('YAML: !!python/object and other code-carrying tags are refused with the path', () => {
  const yaml = `class_name: Sequential\nconfig:\n- class_name: Dense\n  config: !!python/object/apply:os.system ["echo pwned"]\n`;
  assert.throws(() => modelFromYAML(yaml), (e: ConfigDecodeError) => e instanceof ConfigDecodeError && e.path === 'config.0.config' && /python\/object\/apply/.test(e.message));
});

test('truncated, garbage and missing .h5 files: Hdf5FormatError', async () => {
  const bytes = fs.readFileSync(eluModel);
  const truncated = path.join(tmp, 'truncated.h5');
  fs.writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
  await assert.rejects(loadModel(truncated), (e: Error) => e instanceof Hdf5FormatError && /truncated/.test(e.message));
  const garbage = path.join(tmp, 'garbage.h5');
  fs.writeFileSync(garbage, Buffer.from('this is not an HDF5 file at all'.repeat(40)));
  await assert.rejects(loadModel(garbage), (e: Error) => e instanceof Hdf5FormatError && /not an HDF5 file/.test(e.message));
  await assert.rejects(loadModel(path.join(tmp, 'nope.h5')), (e: Error) => e instanceof Hdf5FormatError && /cannot open/.test(e.message));
  const weightsOnly = `${FIXTURES}dl4j/activations/ELU_0_weights.h5`;
  await assert.rejects(loadModel(weightsOnly), (e: Error) => e instanceof Hdf5FormatError && /model_config/.test(e.message));
});

test('a missing data set: Hdf5FormatError naming it; the model keeps its weights', async () => {
  const m = new Sequential({ name: 's', layers: [Dense({ units: 32, input_shape: [16], name: 'dense' })] }).build(0);
  const file = path.join(tmp, 'missing.h5');
  await saveModel(m, file);
  // a file whose weight_names lists a data set that is not there
  const broken = path.join(tmp, 'broken.h5');
  await withH5Write(broken, (f) => {
    f.create_attribute('layer_names', ['dense'], [1], 'S5');
    const g = f.create_group('dense');
    g.create_attribute('weight_names', ['dense/kernel:0', 'dense/bias:0'], [2], 'S14');
    g.create_group('dense').create_dataset({ name: 'kernel:0', data: new Float32Array(16 * 32), shape: [16, 32], dtype: '<f' });
  });
  const before = m.getWeights().map((t) => Array.from(t.dataSync()));
  await assert.rejects(loadWeights(m, broken), (e: Error) => e instanceof Hdf5FormatError && /dense\/dense\/bias:0/.test(e.message) && /missing data set/.test(e.message));
  assert.deepEqual(m.getWeights().map((t) => Array.from(t.dataSync())), before);
});

test('corrupted bytes inside an .h5 file never crash untyped', async () => {
  const bytes = fs.readFileSync(eluModel);
  const file = path.join(tmp, 'flipped.h5');
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 96, max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), async (at, xor) => {
      const copy = Buffer.from(bytes);
      copy[at] ^= xor;
      fs.writeFileSync(file, copy);
      try {
        const m = await loadModel(file);
        m.dispose();
      } catch (e) {
        if (!(e instanceof RxKerasError)) throw new Error(`untyped error at byte ${at}: ${String(e)}`);
      }
    }),
    { numRuns: 25, seed: 7 },
  );
});

/** Random mutations of a valid config: replace, delete or retype a field anywhere in the tree. */
function mutations(value: unknown): fc.Arbitrary<unknown> {
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, p: (string | number)[]) => {
    paths.push(p);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...p, i]));
    else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) walk(x, [...p, k]);
  };
  walk(value, []);
  const junk = fc.oneof(
    fc.constant(null),
    fc.constant(undefined),
    fc.integer({ min: -3, max: 100 }),
    fc.double({ noNaN: false }),
    fc.string({ maxLength: 6 }),
    fc.boolean(),
    fc.constant([]),
    fc.constant({}),
    fc.array(fc.oneof(fc.constant(null), fc.integer({ min: -1, max: 5 })), { maxLength: 4 }),
  );
  return fc.tuple(fc.array(fc.tuple(fc.constantFrom(...paths), junk, fc.boolean()), { minLength: 1, maxLength: 3 })).map(([edits]) => {
    const copy = structuredClone(value) as Record<string | number, unknown>;
    for (const [p, v, del] of edits) {
      if (p.length === 0) return v;
      let node: unknown = copy;
      for (const k of p.slice(0, -1)) node = typeof node === 'object' && node !== null ? (node as Record<string | number, unknown>)[k] : undefined;
      if (typeof node !== 'object' || node === null) continue;
      const last = p[p.length - 1];
      if (del && !Array.isArray(node)) delete (node as Record<string | number, unknown>)[last];
      else (node as Record<string | number, unknown>)[last] = v;
    }
    return copy;
  });
}

const functional = JSON.parse(
  JSON.stringify({
    class_name: 'Model',
    config: {
      name: 'f',
      layers: [
        { name: 'a', class_name: 'InputLayer', config: { batch_input_shape: [null, 4], name: 'a', dtype: 'float32' }, inbound_nodes: [] },
        { name: 'd1', class_name: 'Dense', config: { name: 'd1', units: 3, activation: 'relu' }, inbound_nodes: [[['a', 0, 0, {}]]] },
        { name: 'd2', class_name: 'Dense', config: { name: 'd2', units: 2 }, inbound_nodes: [[['d1', 0, 0, {}]]] },
      ],
      input_layers: [['a', 0, 0]],
      output_layers: [['d2', 0, 0]],
    },
  }),
);

for (const [name, valid] of [
  ['Sequential (dl4j ELU_0)', JSON.parse(eluConfig)],
  ['Sequential (yaml fixture, bare list)', modelFromYAMLValue()],
  ['functional', functional],
] as const) {
  test(`fuzz: random mutations of a valid ${name} config load or throw an RxKerasError`, () => {
    fc.assert(
      fc.property(mutations(valid), (mutated) => {
        try {
          const m = modelFromJSON(mutated as object);
          m.dispose();
        } catch (e) {
          if (!(e instanceof RxKerasError)) throw new Error(`untyped ${(e as Error)?.constructor?.name}: ${String(e)} for ${JSON.stringify(mutated).slice(0, 300)}`);
        }
      }),
      { numRuns: 300, seed: 42 },
    );
  });
}

function modelFromYAMLValue(): object {
  // the YAML fixture's config as plain data, read through the YAML reader
  const text = fs.readFileSync(`${FIXTURES}yaml/cnn_demo_model.yaml`, 'utf8');
  return modelFromYAMLConfig(text);
}

function modelFromYAMLConfig(text: string): object {
  modelFromYAML(text); // it loads as it is
  return JSON.parse(JSON.stringify(parseYAML(text)));
}


test('the fp-ts edge: typed errors as Left values, models as Right', async () => {
  const { modelFromJSONE, loadModelTE } = await import('../../src/models/io.js');
  const { isLeft, isRight } = await import('fp-ts/lib/Either.js');
  const bad = modelFromJSONE({ class_name: 'Sequential', config: { layers: [{ class_name: 'Dense', config: { units: 'many' } }] } });
  assert.ok(isLeft(bad) && bad.left instanceof ConfigDecodeError && /units/.test(bad.left.message));
  const good = modelFromJSONE(fs.readFileSync(`${FIXTURES}dl4j/activations/ELU_0_config.json`, 'utf8'));
  assert.ok(isRight(good));
  const missing = await loadModelTE(path.join(tmp, 'absent.h5'))();
  assert.ok(isLeft(missing) && missing.left instanceof Hdf5FormatError);
});
