import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from '../core/errors.js';
import { atomicWrite } from '../io/index.js';
import { svgToPng } from './rasterise.js';

/** The picture formats the plot functions write, by file extension. */
export type PictureFormat = 'svg' | 'png';

/** The format a file name asks for among `allowed` (its extension, case-insensitive). */
export function pictureFormat<F extends string>(file: string, allowed: readonly F[], what: string): F {
  const ext = path.extname(file).slice(1).toLowerCase();
  if (!(allowed as readonly string[]).includes(ext)) throw new InvalidArgumentError(`${what} file`, `a name ending in ${allowed.map((f) => `.${f}`).join(', ')}`, file);
  return ext as F;
}

/** Writes SVG text as .svg, or rendered as .png; atomically (a temporary file, then a rename). */
export async function writePicture(file: string, svg: string, format: PictureFormat): Promise<void> {
  const bytes = format === 'png' ? svgToPng(svg) : svg;
  await atomicWrite(file, async (tmp) => fs.writeFileSync(tmp, bytes));
}
