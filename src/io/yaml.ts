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

const ALLOWED = new Set([pythonTuple.tag, pythonUnicode.tag, pythonStr.tag]);

/**
 * Parses YAML written by Keras's `to_yaml()`: `!!python/tuple` becomes an
 * array, `!!python/unicode` a string, anchors and aliases are resolved. Any
 * other `!!python/...` tag (objects, names, bytecode) is refused with a
 * ConfigDecodeError naming the path: loading a file never runs code.
 */
export function parseKerasYAML(text: string, where = 'YAML'): unknown {
  if (typeof text !== 'string') throw new ConfigDecodeError('(root)', 'YAML text (a string)', text, where);
  let doc: Document.Parsed;
  try {
    doc = YAML.parseDocument(text, { customTags: [pythonTuple, pythonUnicode, pythonStr], uniqueKeys: false });
  } catch (e) {
    throw new ConfigDecodeError('(root)', 'valid YAML', (e as Error).message, where);
  }
  if (doc.errors.length > 0) throw new ConfigDecodeError('(root)', 'valid YAML', doc.errors[0].message, where);
  checkTags(doc.contents, '', where);
  try {
    return doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    throw new ConfigDecodeError('(root)', 'valid YAML', (e as Error).message, where);
  }
}

function checkTags(node: unknown, path: string, where: string): void {
  if (!isNode(node)) return;
  const tag = node.tag;
  if (tag && tag.startsWith(PY) && !ALLOWED.has(tag))
    throw new ConfigDecodeError(
      path || '(root)',
      'plain data (only !!python/tuple and !!python/unicode tags are read; loading a file never runs code)',
      `a value tagged !!python/${tag.slice(PY.length)}`,
      where,
    );
  if (tag && !tag.startsWith(PY) && !tag.startsWith('tag:yaml.org,2002:'))
    throw new ConfigDecodeError(path || '(root)', 'plain data (no application-specific tags)', `a value tagged ${tag}`, where);
  if (isMap(node)) {
    for (const item of node.items) {
      if (!isPair(item)) continue;
      const key = isScalar(item.key) ? String(item.key.value) : '?';
      checkTags(item.key, path, where);
      checkTags(item.value, path ? `${path}.${key}` : key, where);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => checkTags(item, path ? `${path}.${i}` : String(i), where));
  }
}

/** Block-style YAML of a plain value (Keras configs hold only maps, lists, strings, numbers, booleans and nulls). */
export function stringifyYAML(value: unknown): string {
  return YAML.stringify(value, { aliasDuplicateObjects: false, lineWidth: 0 });
}
