/**
 * FAQ: "How can I run Keras on a GPU?" rxkeras picks the best backend that
 * loads, in the order printed below (compiled training steps, tfjs-node-gpu
 * when it sees a GPU, tfjs-node, WebAssembly with one thread per core, plain
 * JavaScript). The environment variable RXKERAS_BACKEND forces one (for
 * example RXKERAS_BACKEND=cpu).
 */
import * as rx from '../../src/index.js';

const name = await rx.initBackend({ quiet: true });
console.log(`backends in order of preference: ${rx.BACKENDS.join(', ')}`);
console.log(`${rx.BACKEND_ENV}=${process.env[rx.BACKEND_ENV] ?? '(unset)'}`);
console.log(`backend: ${name}`);
