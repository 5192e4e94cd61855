import YAML, { isNode, isScalar, isMap, isPair, isSeq, type Document } from 'yaml';
import { ConfigDecodeError } from '../core/errors.js';

const PY = 'tag:yaml.org,2002:python/';

/** `!!python/tuple [1, 2]`: read as an array. */
const pythonTuple = {
  tag: `${PY}tuple`,
  collection: 'seq' as const,
  default: false,
  resolve: (value: unknown) => value,
};

/** `!!python/unicode 'abc'`: read as a string. */
const pythonUnicode = {
  tag: `${PY}unicode`,
  default: false,
  resolve: (value: string) => value,
};

/** `!!python/str` is what PyYAML 3 writes for byte strings on Python 2; plain text either way. */
const pythonStr = { ...pythonUnicode, tag: `${PY}str` };

/**
 * tf.keras's `to_yaml()` writes the lists, dicts and tuples that its layers
 * track (BatchNormalization's `axis`, for one) as a call of the tracking
 * wrapper on the plain value: `!!python/object/apply:<module>.ListWrapper [[3]]`.
 * These, and only these, are read as the value they wrap (the module moved
 * from `training.tracking` to `trackable` in TensorFlow 2.11).
 */
const WRAPPERS = new Set(
  ['tensorflow.python.training.tracking.data_structures', 'tensorflow.python.trackable.data_structures'].flatMap((module) =>
    ['ListWrapper', '_DictWrapper', '_TupleWrapper'].map((cls) => `${PY}object/apply:${module}.${cls}`),
  ),
);
const wrapperTags = [...WRAPPERS].map((tag) => ({ tag, collection: 'seq' as const, default: false, resolve: (value: unknown) => value }));

const ALLOWED = new Set([pythonTuple.tag, pythonUnicode.tag, pythonStr.tag, ...WRAPPERS]);

/**
 * Parses YAML written by Keras's `to_yaml()`: `!!python/tuple` becomes an
 * array, `!!python/unicode` a string, tf.keras's tracking wrappers the value
 * they wrap, anchors and aliases are resolved. Any other `!!python/...` tag
 * (objects, names, bytecode) is refused with a ConfigDecodeError naming the
 * path: loading a file never runs code.
 */
export function parseKerasYAML(text: string, where = 'YAML'): unknown {
  if (typeof text !== 'string') throw new ConfigDecodeError('(root)', 'YAML text (a string)', text, where);
  let doc: Document.Parsed;
  try {
    doc = YAML.parseDocument(text, { customTags: [pythonTuple, pythonUnicode, pythonStr, ...wrapperTags], uniqueKeys: false });
  } catch (e) {
    throw new ConfigDecodeError('(root)', 'valid YAML', (e as Error).message, where);
  }
  if (doc.errors.length > 0) throw new ConfigDecodeError('(root)', 'valid YAML', doc.errors[0].message, where);
  doc.contents = checkTags(doc.contents, '', where) as typeof doc.contents;
  try {
    return doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    throw new ConfigDecodeError('(root)', 'valid YAML', (e as Error).message, where);
  }
}

/** Refuses any tag outside the allow-list; returns the node to keep (a tracking wrapper's argument in place of the call). */
function checkTags(node: unknown, path: string, where: string): unknown {
  if (!isNode(node)) return node;
  const tag = node.tag;
  if (tag && tag.startsWith(PY) && !ALLOWED.has(tag))
    throw new ConfigDecodeError(
      path || '(root)',
      "plain data (only !!python/tuple, !!python/unicode and tf.keras's ListWrapper / _DictWrapper / _TupleWrapper tags are read; loading a file never runs code)",
      `a value tagged !!python/${tag.slice(PY.length)}`,
      where,
    );
  if (tag && WRAPPERS.has(tag)) {
    if (!isSeq(node) || node.items.length !== 1)
      throw new ConfigDecodeError(path || '(root)', `the one argument of ${tag.slice(PY.length + 'object/apply:'.length)} (a sequence of one value)`, String(node), where);
    return checkTags(node.items[0], path, where);
  }
  if (tag && !tag.startsWith(PY) && !tag.startsWith('tag:yaml.org,2002:'))
    throw new ConfigDecodeError(path || '(root)', 'plain data (no application-specific tags)', `a value tagged ${tag}`, where);
  if (isMap(node)) {
    for (const item of node.items) {
      if (!isPair(item)) continue;
      const key = isScalar(item.key) ? String(item.key.value) : '?';
      checkTags(item.key, path, where);
      item.value = checkTags(item.value, path ? `${path}.${key}` : key, where);
    }
  } else if (isSeq(node)) {
    node.items = node.items.map((item, i) => checkTags(item, path ? `${path}.${i}` : String(i), where));
  }
  return node;
}

/** Block-style YAML of a plain value (Keras configs hold only maps, lists, strings, numbers, booleans and nulls). */
export function stringifyYAML(value: unknown): string {
  return YAML.stringify(value, { aliasDuplicateObjects: false, lineWidth: 0 });
}
