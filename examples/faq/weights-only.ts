/**
 * FAQ: "How can I save only the weights?" saveWeights writes Keras's
 * save_weights HDF5 layout; loadWeights reads it into a model of the same
 * architecture, or, with byName, into the layers of another model that have
 * the same names (fine-tuning, transfer).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as rx from '../../src/index.js';

await rx.initBackend({ quiet: true });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faq-weights-'));
const file = path.join(dir, 'weights.h5');
const trained = new rx.Sequential({ layers: [rx.Dense({ units: 4, input_shape: [8], name: 'shared' }), rx.Dense({ units: 1, name: 'head' })] }).build(1);
await trained.saveWeights(file);

const same = new rx.Sequential({ layers: [rx.Dense({ units: 4, input_shape: [8], name: 'a' }), rx.Dense({ units: 1, name: 'b' })] }).build(2);
await same.loadWeights(file); // by order, as Keras's load_weights
const other = new rx.Sequential({ layers: [rx.Dense({ units: 4, input_shape: [8], name: 'shared' }), rx.Dense({ units: 3, name: 'new_head' })] }).build(3);
await other.loadWeights(file, { byName: true }); // only 'shared' matches

/** The weight arrays as numbers (getWeights returns copies, freed here). */
const weights = (m: rx.Model) => m.getWeights().map((t) => { const v = Array.from(t.dataSync()); t.dispose(); return v; });
const equal = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
const [t, s, o] = [weights(trained), weights(same), weights(other)];
console.log(`same architecture, by order: all ${t.length} arrays equal: ${t.every((w, i) => equal(w, s[i]))}`);
console.log(`other model, by name: 'shared' kernel and bias equal: ${equal(t[0], o[0]) && equal(t[1], o[1])}; 'new_head' kept its own ${o[2].length} weights`);
fs.rmSync(dir, { recursive: true, force: true });
