import { ConfigDecodeError, RxKerasError, describe } from '../core/errors.js';

/** An error at `path` of a config found `where`: a ConfigDecodeError's path is prefixed; any other error becomes one. */
export function relocate(e: unknown, path: string, where: string): RxKerasError {
  if (e instanceof ConfigDecodeError) return new ConfigDecodeError(e.path === '(root)' ? path : `${path}.${e.path}`, e.expected, e.found, where);
  if (e instanceof RxKerasError) return e;
  return new ConfigDecodeError(path, 'a valid value', e instanceof Error ? e.message : describe(e), where);
}
