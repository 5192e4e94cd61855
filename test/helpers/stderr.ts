/**
 * What `run` writes to this process's stderr, in chunks, with RXKERAS_QUIET
 * unset meanwhile (so that rxkeras's notices are written), instead of showing it.
 */
export async function captureStderr(run: () => Promise<unknown>): Promise<string[]> {
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  const quiet = process.env.RXKERAS_QUIET;
  delete process.env.RXKERAS_QUIET;
  process.stderr.write = ((chunk: string) => (lines.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    await run();
  } finally {
    process.stderr.write = write;
    if (quiet !== undefined) process.env.RXKERAS_QUIET = quiet;
  }
  return lines;
}
