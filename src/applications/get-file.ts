import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import cliProgress from 'cli-progress';
import { RxKerasError } from '../core/errors.js';

/** A file Keras would download could not be had: offline, refused, timed out or not found. */
export class WeightsDownloadError extends RxKerasError {
  constructor(
    readonly url: string,
    readonly path: string,
    readonly reason: string,
  ) {
    super(`could not download ${url} (${reason}); without network access, fetch that file elsewhere and place it at ${path}`);
  }
}

/** A downloaded or cached file whose hash is not the one Keras gives. */
export class WeightsHashError extends RxKerasError {
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly found: string,
  ) {
    super(`${path}: expected ${expected.length === 64 ? 'SHA-256' : 'MD5'} ${expected}, got ${found}: the file is incomplete or corrupted; delete it and try again`);
  }
}

export interface GetFileOptions {
  /** Folder under the Keras home (default 'models', as Keras's applications use). */
  cacheSubdir?: string;
  /** MD5 (32 hex digits) or SHA-256 (64) of the file, checked on the cached and on the downloaded file. */
  fileHash?: string;
  /** Bound on the wait for the server's answer, in ms (default 30,000). */
  timeoutMs?: number;
  /** Where the progress bar goes (default process.stderr; drawn only on a terminal). */
  stream?: NodeJS.WriteStream;
}

/** Keras's cache folder: $KERAS_HOME, else ~/.keras (os.tmpdir()/.keras when the home is not writable, as Keras does). */
export function kerasHome(): string {
  if (process.env.KERAS_HOME) return process.env.KERAS_HOME;
  const home = path.join(os.homedir(), '.keras');
  try {
    fs.mkdirSync(home, { recursive: true });
    fs.accessSync(home, fs.constants.W_OK);
    return home;
  } catch {
    return path.join(os.tmpdir(), '.keras');
  }
}

/** MD5 or SHA-256 (chosen by the expected hash's length, as Keras's `validate_file`) of a file. */
export async function hashFile(file: string, expected: string): Promise<string> {
  const h = crypto.createHash(expected.length === 64 ? 'sha256' : 'md5');
  await pipeline(fs.createReadStream(file), h);
  return h.digest('hex');
}

/**
 * Keras's `utils.get_file(fname, origin, cache_subdir, file_hash)`: the path
 * of `<KERAS_HOME>/<cacheSubdir>/<fname>`, downloaded from `url` when it is not
 * there (or fails its hash), with a progress bar; the download is written
 * to a temporary file, checked, then renamed into place, so the cache never
 * holds a partial file.
 */
export async function getFile(fname: string, url: string, options: GetFileOptions = {}): Promise<string> {
  const dir = path.join(kerasHome(), options.cacheSubdir ?? 'models');
  const target = path.join(dir, fname);
  const expected = options.fileHash;
  if (fs.existsSync(target)) {
    if (!expected || (await hashFile(target, expected)) === expected) return target;
    options.stream?.write(`A local file was found, but it seems to be incomplete or outdated because its hash does not match the original value; downloading again.\n`);
  }
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${target}.part-${process.pid}`;
  try {
    await download(url, tmp, target, options);
    if (expected) {
      const found = await hashFile(tmp, expected);
      if (found !== expected) throw new WeightsHashError(url, expected, found);
    }
    fs.renameSync(tmp, target);
    return target;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

async function download(url: string, tmp: string, target: string, options: GetFileOptions): Promise<void> {
  const stream = options.stream ?? process.stderr;
  stream.write(`Downloading data from ${url}\n`);
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 30_000) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    throw new WeightsDownloadError(url, target, cause ?? (e as Error).message);
  }
  if (!response.ok || !response.body) throw new WeightsDownloadError(url, target, `HTTP ${response.status} ${response.statusText}`);
  const total = Number(response.headers.get('content-length') ?? 0);
  const bar = new cliProgress.SingleBar({ stream, format: '{value}/{total} [{bar}] {percentage}%', barsize: 30, noTTYOutput: false }, cliProgress.Presets.legacy);
  bar.start(total || 1, 0);
  let done = 0;
  const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
  body.on('data', (chunk: Buffer) => bar.update((done += chunk.length)));
  try {
    await pipeline(body, fs.createWriteStream(tmp));
  } catch (e) {
    throw new WeightsDownloadError(url, target, `transfer broke off after ${done} bytes: ${(e as Error).message}`);
  } finally {
    bar.stop();
  }
}
