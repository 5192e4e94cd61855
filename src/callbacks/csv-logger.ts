import fs from 'node:fs';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { InvalidArgumentError } from '../core/errors.js';
import type { Callback } from '../training/events.js';
import type { Logs } from '../training/types.js';
import { callbackOperator, warnLine } from './callback-operator.js';
import { pyRepr } from './python-format.js';

export interface CSVLoggerOptions {
  /** The field separator (default ','). */
  separator?: string;
  /** Append to an existing file instead of overwriting it (default false). */
  append?: boolean;
  warn?: (line: string) => void;
}

/**
 * Keras's `CSVLogger`: one row per epoch, `epoch` then the logs in sorted
 * order, as Python's `csv` module writes them (excel dialect: `\r\n` line
 * ends, minimal quoting, floats as Python's `repr`, `NA` for a missing
 * value). The file is opened when training starts and closed when the
 * stream ends, however it ends; every row is written through at once.
 *
 * With `append`, the header is written only to an empty or new file. To keep
 * an appended file consistent, the rows follow the existing header's
 * columns (a log that it lacks is left out, with a warning), and a last row
 * cut short by an interrupted run is ended before new rows are added.
 */
export function CSVLogger(filename: string, options: CSVLoggerOptions = {}): Callback {
  const separator = options.separator ?? ',';
  const append = options.append ?? false;
  const warn = options.warn ?? warnLine;
  if (typeof filename !== 'string' || filename === '') throw new InvalidArgumentError('CSVLogger filename', 'a file path', filename);
  if (typeof separator !== 'string' || separator.length !== 1) throw new InvalidArgumentError('CSVLogger separator', 'a single character', separator);
  const row = (fields: string[]) => stringify([fields], { delimiter: separator, record_delimiter: 'windows', quoted_match: /[\r\n]/ });

  return callbackOperator(() => {
    let fd: number | undefined;
    let keys: string[] | undefined;
    let writeHeader = true;
    let warned = false;
    const close = () => {
      if (fd !== undefined) fs.closeSync(fd);
      fd = undefined;
    };
    return {
      before(e) {
        if (e.type === 'fitStart') {
          close();
          keys = undefined;
          writeHeader = true;
          let prefix = '';
          if (append && fs.existsSync(filename)) {
            const text = fs.readFileSync(filename, 'utf8');
            if (text.length > 0) {
              writeHeader = false;
              const header = (parse(text, { delimiter: separator, to_line: 1, relax_column_count: true }) as string[][])[0];
              if (header && header.length > 0) keys = header.slice(1);
              if (!text.endsWith('\n')) prefix = '\r\n';
            }
          }
          fd = fs.openSync(filename, append ? 'a' : 'w');
          if (prefix) fs.writeSync(fd, prefix);
        }
        if (e.type === 'epochEnd' && fd !== undefined) {
          const logs: Logs = e.logs;
          if (!keys) keys = Object.keys(logs).sort();
          const missing = Object.keys(logs).filter((k) => !keys!.includes(k));
          if (missing.length > 0 && !warned) {
            warned = true;
            warn(`CSVLogger: ${filename} has no column for ${missing.join(', ')}; appending to its columns ${keys.join(', ')}`);
          }
          let text = '';
          if (writeHeader) {
            text += row(['epoch', ...keys]);
            writeHeader = false;
          }
          text += row([String(e.epoch), ...keys.map((k) => (logs[k] === undefined ? 'NA' : pyRepr(logs[k])))]);
          fs.writeSync(fd, text);
        }
      },
      teardown: close,
    };
  });
}
