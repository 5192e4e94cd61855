/**
 * FAQ: "How can I use HDF5 inputs with Keras?" fromHdf5 (rxkeras/streams,
 * Keras's HDF5Matrix) trains from data sets in an HDF5 file, reading a slice
 * of rows at a time, never the whole file. A plain HDF5 data set read with
 * h5wasm is just an array: give it to predict as a tensor.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import h5wasm from 'h5wasm/node';
import * as rx from '../../src/index.js';
import { batch, fromHdf5 } from '../../streams/index.js';
import { SMALL, toyData } from './toy-data.js';

await rx.initBackend({ quiet: true });
await h5wasm.ready;
const n = SMALL ? 300 : 5000;
const { x, y } = toyData(n);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faq-hdf5-'));
const file = path.join(dir, 'data.h5');
const out = new h5wasm.File(file, 'w');
out.create_dataset({ name: 'features', data: Float32Array.from(x.flat()), shape: [n, 8], dtype: '<f' });
out.create_dataset({ name: 'labels', data: Float32Array.from(y.flat()), shape: [n, 1], dtype: '<f' });
out.close();

const model = new rx.Sequential({ layers: [rx.Dense({ units: 16, activation: 'relu', input_shape: [8] }), rx.Dense({ units: 1, activation: 'sigmoid' })] }).build(1);
model.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: ['accuracy'] }, 1);
let reads = 0;
let largest = 0;
const rows = await fromHdf5(file, { x: 'features', y: 'labels', sliceRows: 128, onRead: ({ start, end }) => ((reads += 1), (largest = Math.max(largest, end - start))) });
// In file order, as Keras's HDF5Matrix: contiguous reads (shuffle() would read rows one by one).
const history = await model.fit(rows.pipe(batch(64)), { epochs: 2, verbose: 0 });
console.log(`fit from ${path.basename(file)}: ${n} rows, ${reads} reads of at most ${largest} rows; accuracy ${history.history.accuracy.map((a) => a.toFixed(3)).join(', ')}`);

const input = new h5wasm.File(file, 'r');
const features = input.get('features') as InstanceType<typeof h5wasm.Dataset>;
const shape = features.shape as number[];
const predictions = model.predict(rx.ops.tensor(features.value as Float32Array, shape)) as rx.ops.Tensor;
input.close();
console.log(`predict on the plain data set 'features' [${shape}]: predictions [${predictions.shape}], first ${predictions.dataSync()[0].toFixed(4)}`);
fs.rmSync(dir, { recursive: true, force: true });
