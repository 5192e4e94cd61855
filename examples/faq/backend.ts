/**
 * FAQ: "How can I run Keras on a GPU?" rxkeras picks the best TensorFlow.js
 * backend that loads: tfjs-node-gpu when it sees a GPU, then tfjs-node, then
 * WebAssembly (one thread per core), then plain JavaScript. The environment
 * variable RXKERAS_BACKEND forces one (for example RXKERAS_BACKEND=cpu).
 */
import * as rx from '../../src/index.js';

const name = await rx.initBackend({ quiet: true });
console.log(`backends in order of preference: ${rx.BACKENDS.join(', ')}`);
console.log(`${rx.BACKEND_ENV}=${process.env[rx.BACKEND_ENV] ?? '(unset)'}`);
console.log(`backend: ${name}`);
