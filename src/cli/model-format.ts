import fs from 'node:fs';
import path from 'node:path';

/** The kind of model file the command was given. */
export type ModelFormat = 'h5' | 'json' | 'yaml' | 'tfjs';

/** The formats `rxkeras convert --to` writes. */
export const CONVERT_TARGETS = ['json', 'yaml', 'h5', 'tfjs'] as const;
export type ConvertTarget = (typeof CONVERT_TARGETS)[number];

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * The format of a model file: from its extension (`.h5`, `.hdf5`, `.json`,
 * `.yaml`, `.yml`), else from its first bytes (the HDF5 signature, a JSON
 * brace or bracket, YAML otherwise). A JSON file with a `modelTopology` is a
 * TF.js layers model (model.json). A missing file is reported by the read.
 */
export function modelFormat(file: string): ModelFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.h5' || ext === '.hdf5' || ext === '.he5') return 'h5';
  if (ext === '.json') return isTfjs(file) ? 'tfjs' : 'json';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(512);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    if (n >= 8 && head.subarray(0, 8).equals(HDF5_SIGNATURE)) return 'h5';
    const text = head.subarray(0, n).toString('utf8').trimStart();
    return text.startsWith('{') || text.startsWith('[') ? (isTfjs(file) ? 'tfjs' : 'json') : 'yaml';
  } finally {
    fs.closeSync(fd);
  }
}

/** A TF.js layers model.json: a JSON object with a `modelTopology` (a Keras to_json() has `class_name` at the top). */
function isTfjs(file: string): boolean {
  try {
    const value = JSON.parse(fs.readFileSync(file, 'utf8'));
    return typeof value === 'object' && value !== null && 'modelTopology' in value;
  } catch {
    return false;
  }
}
