/**
 * The import rules `npm test` checks (dependency-cruiser, parsing TypeScript
 * with swc): no cycles, type-only imports included, and imports only
 * downward in the engine's layers (docs/architecture.md).
 */
const order = ['ops', 'core', 'leaf', 'training', 'io', 'callbacks', 'upper', 'models', 'utils', 'cli'];
// Folders of src/ by layer; a folder may import its own layer and those before it.
const layers = {
  ops: ['ops'],
  core: ['core'],
  leaf: ['activations', 'initializers', 'regularizers', 'constraints', 'layers', 'optimizers', 'losses', 'metrics', 'custom-objects', 'datasets'],
  training: ['training'],
  io: ['io'],
  callbacks: ['callbacks'],
  upper: ['parallel', 'applications', 'serving'],
  models: ['models'],
  utils: ['plot', 'testing'],
  cli: ['cli'],
};
const folders = (names) => `^src/(${names.join('|')})/`;
const above = (layer) => order.slice(order.indexOf(layer) + 1).flatMap((l) => layers[l]);

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'no import cycles (type-only imports included)', from: {}, to: { circular: true } },
    ...order
      .filter((layer) => layer !== 'ops' && above(layer).length > 0)
      .map((layer) => ({
        name: `${layer}-imports-downward`,
        severity: 'error',
        comment: `src/{${layers[layer].join(',')}} imports only from its own layer and the layers below it`,
        from: { path: folders(layers[layer]) },
        to: { path: folders(above(layer)) },
      })),
    {
      name: 'ops-is-the-bottom',
      severity: 'error',
      comment: 'src/ops imports nothing of the engine but the error classes',
      from: { path: '^src/ops/' },
      to: { path: '^(src|streams)/', pathNot: ['^src/ops/', '^src/core/errors\\.ts$'] },
    },
    {
      name: 'streams-below-training',
      severity: 'error',
      comment: 'streams/ (the data side) uses only ops and core',
      from: { path: '^streams/' },
      to: { path: '^src/', pathNot: ['^src/ops/', '^src/core/'] },
    },
    {
      name: 'h5wasm-only-in-the-adapter',
      severity: 'error',
      comment: 'src/core/hdf5.ts is the one adapter to h5wasm',
      from: { path: '^(src|streams)/', pathNot: '^src/core/hdf5\\.ts$' },
      to: { path: 'h5wasm' },
    },
    {
      name: 'tfjs-only-in-ops',
      severity: 'error',
      comment: 'only src/ops knows the tensor library',
      from: { path: '^(src|streams)/', pathNot: '^src/ops/' },
      to: { path: '@tensorflow/' },
    },
  ],
  options: {
    parser: 'swc',
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
