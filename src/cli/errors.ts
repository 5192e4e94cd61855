import { RxKerasError } from '../core/errors.js';

/** Exit codes of the `rxkeras` command. */
export const EXIT_OK = 0;
/** Bad input: a missing or unreadable file, a bad data set name, wrong shapes, an unknown layer. */
export const EXIT_BAD_INPUT = 1;
/** Wrong usage: an unknown command or option, a missing required option, a bad option value. */
export const EXIT_USAGE = 2;

/** A command line that parses but asks for something the command cannot do (exit code 2). */
export class UsageError extends RxKerasError {}

/** Node's file-system error codes, in words. */
const FS_CODES: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  EEXIST: 'file exists',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
};

/**
 * One line for stderr: the error's message with its line breaks folded,
 * Node's file errors (`ENOENT: no such file or directory, open 'x'`) in the
 * form `'x': no such file or directory`.
 */
export function errorLine(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  let message: string;
  if (err && typeof err.code === 'string' && err.code in FS_CODES && typeof err.syscall === 'string') {
    const path = err.path ?? (err as { dest?: string }).dest;
    message = path ? `'${path}': ${FS_CODES[err.code]}` : `${FS_CODES[err.code]} (${err.syscall})`;
  } else if (e instanceof Error) message = e.message;
  else message = String(e);
  return message.replace(/\s*\n\s*/g, ' ').trim() || (e instanceof Error ? e.name : 'error');
}
