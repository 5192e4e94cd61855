import fs from 'node:fs';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import * as ops from '../ops/index.js';
import { InvalidArgumentError, RxKerasError } from '../core/errors.js';

/** A decoded 8-bit image, row-major, channels interleaved (PIL's image, as Keras's `load_img` returns it). */
export interface Image {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  data: Uint8Array;
}

export type ColorMode = 'rgb' | 'grayscale' | 'rgba';
export type Interpolation = 'nearest' | 'bilinear' | 'bicubic';

export interface LoadImgOptions {
  /** 'rgb' (default), 'grayscale' or 'rgba', as PIL's `convert`. */
  color_mode?: ColorMode;
  /** [height, width] to resize to (default: as stored). */
  target_size?: [number, number] | null;
  /** Resampling for target_size: 'nearest' (Keras's default), 'bilinear' or 'bicubic', computed as PIL does. */
  interpolation?: Interpolation;
}

/** A file that is not a JPEG or PNG image, or one its decoder refused. */
export class ImageDecodeError extends RxKerasError {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: expected a JPEG or PNG image, ${reason}`);
  }
}

/** Keras's `load_img(path, color_mode, target_size, interpolation)`: decodes a JPEG (jpeg-js) or PNG (pngjs) file. */
export function loadImg(path: string, options: LoadImgOptions = {}): Image {
  const { color_mode: mode = 'rgb', target_size: size = null, interpolation = 'nearest' } = options;
  if (!['rgb', 'grayscale', 'rgba'].includes(mode)) throw new InvalidArgumentError('loadImg: color_mode', "'rgb', 'grayscale' or 'rgba'", mode);
  if (!(interpolation in FILTERS)) throw new InvalidArgumentError('loadImg: interpolation', "'nearest', 'bilinear' or 'bicubic'", interpolation);
  let img = convert(decode(path), mode);
  if (size && (img.height !== size[0] || img.width !== size[1])) img = resize(img, size[1], size[0], interpolation);
  return img;
}

/** Keras's `img_to_array`: a float32 tensor (height, width, channels). */
export function imgToArray(img: Image): ops.Tensor3D {
  return ops.tensor3d(Float32Array.from(img.data), [img.height, img.width, img.channels]);
}

function decode(path: string): Image {
  const buf = fs.readFileSync(path);
  try {
    if (buf[0] === 0xff && buf[1] === 0xd8) {
      const d = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
      return { width: d.width, height: d.height, channels: 4, data: d.data };
    }
    if (buf.subarray(1, 4).toString('latin1') === 'PNG') {
      const d = PNG.sync.read(buf);
      return { width: d.width, height: d.height, channels: 4, data: new Uint8Array(d.data.buffer, d.data.byteOffset, d.data.length) };
    }
  } catch (e) {
    throw new ImageDecodeError(path, `the decoder failed: ${(e as Error).message}`);
  }
  throw new ImageDecodeError(path, `found a file starting with bytes ${[...buf.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`);
}

/** PIL's `convert` from RGBA: 'rgb' drops alpha, 'grayscale' is ITU-R 601-2 luma in PIL's fixed point. */
function convert(img: Image, mode: ColorMode): Image {
  const n = img.width * img.height;
  const src = img.data;
  if (mode === 'rgba') return img;
  if (mode === 'rgb') {
    const out = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = src[i * 4 + c];
    return { ...img, channels: 3, data: out };
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (src[i * 4] * 19595 + src[i * 4 + 1] * 38470 + src[i * 4 + 2] * 7471 + 0x8000) >> 16;
  return { ...img, channels: 1, data: out };
}

/** PIL's resampling filters: support radius and kernel. */
const FILTERS: Record<Interpolation, { support: number; fn: (x: number) => number } | null> = {
  nearest: null,
  bilinear: { support: 1, fn: (x) => (x < 0 ? -x : x) < 1 ? 1 - Math.abs(x) : 0 },
  bicubic: {
    support: 2,
    fn: (x) => {
      const a = -0.5;
      const t = Math.abs(x);
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    },
  },
};

const PRECISION_BITS = 32 - 8 - 2;

/** PIL's `Image.resize(size, resample)` for 8-bit images: nearest by pixel centres, the others separable in fixed point (horizontal pass first). */
export function resize(img: Image, width: number, height: number, interpolation: Interpolation): Image {
  const c = img.channels;
  if (interpolation === 'nearest') {
    const out = new Uint8Array(width * height * c);
    const xs = Array.from({ length: width }, (_, x) => Math.min(img.width - 1, Math.floor(((x + 0.5) * img.width) / width)));
    for (let y = 0; y < height; y++) {
      const sy = Math.min(img.height - 1, Math.floor(((y + 0.5) * img.height) / height));
      for (let x = 0; x < width; x++) for (let k = 0; k < c; k++) out[(y * width + x) * c + k] = img.data[(sy * img.width + xs[x]) * c + k];
    }
    return { width, height, channels: c, data: out };
  }
  const filter = FILTERS[interpolation]!;
  let cur = img;
  if (width !== img.width) cur = pass(cur, width, filter, true);
  if (height !== img.height) cur = pass(cur, height, filter, false);
  return cur;
}

/** One separable pass of PIL's ImagingResample (coefficients normalised to fixed point, rounding, clipping to 8 bits). */
function pass(img: Image, outSize: number, filter: { support: number; fn: (x: number) => number }, horizontal: boolean): Image {
  const inSize = horizontal ? img.width : img.height;
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = filter.support * filterscale;
  const bounds: [number, Int32Array][] = [];
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const count = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    const w = Array.from({ length: count }, (_, x) => filter.fn((x + xmin - center + 0.5) / filterscale));
    const total = w.reduce((a, b) => a + b, 0);
    const k = Int32Array.from(w, (v) => {
      const n = total !== 0 ? v / total : v;
      return Math.trunc(n < 0 ? -0.5 + n * (1 << PRECISION_BITS) : 0.5 + n * (1 << PRECISION_BITS));
    });
    bounds.push([xmin, k]);
  }
  const c = img.channels;
  const w = horizontal ? outSize : img.width;
  const h = horizontal ? img.height : outSize;
  const out = new Uint8Array(w * h * c);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const [min, k] = bounds[horizontal ? x : y];
      for (let ch = 0; ch < c; ch++) {
        let ss = 1 << (PRECISION_BITS - 1);
        for (let i = 0; i < k.length; i++) {
          const src = horizontal ? (y * img.width + min + i) * c + ch : ((min + i) * img.width + x) * c + ch;
          ss += img.data[src] * k[i];
        }
        out[(y * w + x) * c + ch] = Math.max(0, Math.min(255, ss >> PRECISION_BITS));
      }
    }
  return { width: w, height: h, channels: c, data: out };
}
