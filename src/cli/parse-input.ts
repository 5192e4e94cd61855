import fs from 'node:fs';
import { UsageError } from './errors.js';

/** One `--input FILE.h5:DATASET[,DATASET...]` argument. */
export interface InputSpec {
  file: string;
  datasets: string[];
}

/**
 * Splits `FILE.h5:DATASET[,DATASET...]`. Data set paths may hold colons
 * (`dense/kernel:0`) and file names may too, so the split is at the first
 * colon whose left part is an existing file; when none is, at the first
 * colon (after a Windows drive letter), and reading reports the missing file.
 */
export function parseInputSpec(arg: string): InputSpec {
  const colons: number[] = [];
  for (let i = 0; i < arg.length; i++) if (arg[i] === ':') colons.push(i);
  const candidates = colons.filter((i) => i > 0 && !(i === 1 && /^[A-Za-z]$/.test(arg[0])));
  const at = candidates.find((i) => isFile(arg.slice(0, i))) ?? candidates[0];
  const datasets = at === undefined ? [] : arg.slice(at + 1).split(',').map((d) => d.trim());
  if (at === undefined || datasets.some((d) => d === ''))
    throw new UsageError(`--input '${arg}': expected FILE.h5:DATASET[,DATASET...]`);
  return { file: arg.slice(0, at), datasets };
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}
