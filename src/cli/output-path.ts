import fs from 'node:fs';
import path from 'node:path';

/**
 * Checks, before any work, that `file` can be written: its folder exists and
 * is writable, and it is not a folder itself. Throws Node's own error (with
 * its `path`), which the entry point prints as one line.
 */
export function checkWritable(file: string): void {
  fs.accessSync(path.dirname(path.resolve(file)), fs.constants.W_OK);
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(file);
  } catch {
    return; // a new file
  }
  if (stat.isDirectory()) throw Object.assign(new Error(`EISDIR: '${file}'`), { code: 'EISDIR', syscall: 'open', path: file });
}
