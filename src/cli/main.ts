/**
 * The entry point of the `rxkeras` command (see bin/rxkeras.js). Exit codes:
 * 0 on success; 1 with a one-line message on stderr for bad input (a missing
 * file, a bad data set, wrong shapes, an unknown layer); 2 on wrong usage.
 */
import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
import { EXIT_BAD_INPUT, EXIT_OK, EXIT_USAGE, UsageError, errorLine } from './errors.js';
import { buildProgram, type CommandOutput, type Commands } from './program.js';

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const commands: Commands = {
  async prepare(globals) {
    const { initBackend } = await import('../ops/tfjs/backend.js');
    await initBackend({ quiet: !globals.verbose });
    if (globals.customObjects.length > 0) {
      const { loadCustomObjectModules } = await import('./custom-objects-option.js');
      await loadCustomObjectModules(globals.customObjects);
    }
  },
  async summary(model, options) {
    const { summaryCommand } = await import('./summary-command.js');
    return { stdout: await summaryCommand(model, options) };
  },
  async predict(model, options) {
    const { predictCommand } = await import('./predict-command.js');
    return { stdout: await predictCommand(model, options) };
  },
  async convert(model, options) {
    const { convertCommand } = await import('./convert-command.js');
    const r = await convertCommand(model, options);
    return { stdout: r.stdout, stderr: r.notes };
  },
  async launch(script, args, options) {
    const { launch } = await import('../parallel/launcher.js');
    const { timeout, ...rest } = options;
    return { exitCode: await launch({ ...rest, script, args, timeoutMs: timeout }) };
  },
  async serve(models, options) {
    const { serveCommand } = await import('./serve-command.js');
    return { stderr: await serveCommand(models, options, (line) => write(process.stdout, `${line}\n`)) };
  },
  async plot(model, options) {
    const { plotCommand } = await import('./plot-command.js');
    await plotCommand(model, options);
    return {};
  },
  async fit(model, options) {
    const { fitCommand } = await import('./fit-command.js');
    await fitCommand(model, options);
    return {};
  },
  async evaluate(model, options) {
    const { evaluateCommand } = await import('./evaluate-command.js');
    return { stdout: await evaluateCommand(model, options) };
  },
};

const write = (stream: NodeJS.WriteStream, text: string): Promise<void> =>
  new Promise((resolve) => (text === '' ? resolve() : stream.write(text, () => resolve())));

/** Runs the command line `argv` (without `node` and the script) and returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const outputs: CommandOutput[] = [];
  const program = buildProgram(commands, (out) => outputs.push(out), version);
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander has already printed its message (or the help / version).
      return e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? EXIT_OK : EXIT_USAGE;
    }
    await write(process.stderr, `rxkeras: error: ${errorLine(e)}\n`);
    if (process.env.RXKERAS_DEBUG && e instanceof Error && e.stack) console.error(e.stack);
    return e instanceof UsageError ? EXIT_USAGE : EXIT_BAD_INPUT;
  }
  for (const out of outputs) {
    for (const line of out.stderr ?? []) await write(process.stderr, `rxkeras: ${line}\n`);
    if (out.stdout) await write(process.stdout, out.stdout);
  }
  return outputs.find((out) => out.exitCode !== undefined)?.exitCode ?? EXIT_OK;
}
