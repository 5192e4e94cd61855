import { accessSync, constants } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { checkConvert, checkPredict } from './checks.js';

/** The formats `rxkeras convert --to` writes. */
export const CONVERT_TARGETS = ['json', 'yaml', 'h5'] as const;
export type ConvertTarget = (typeof CONVERT_TARGETS)[number];

/** What a command's action returns: text for stdout and lines for stderr. */
export interface CommandOutput {
  stdout?: string;
  stderr?: string[];
}

/** The command implementations, given to the parser (loaded lazily: `--help` and usage errors never load TensorFlow.js). */
export interface Commands {
  /** Runs before any command: backend, custom objects. */
  prepare(globals: GlobalOptions): Promise<void>;
  summary(model: string, options: { weights?: string }): Promise<CommandOutput>;
  predict(model: string, options: { weights?: string; input: string[]; output: string; batchSize?: number }): Promise<CommandOutput>;
  convert(model: string, options: { weights?: string; to: ConvertTarget; output: string; weightsOutput?: string }): Promise<CommandOutput>;
}

export interface GlobalOptions {
  /** Modules whose `customObjects` (or default) export is registered before the model loads. */
  customObjects: string[];
  /** Report the backend on stderr. */
  verbose: boolean;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected an integer >= 1.');
  return n;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/**
 * The `rxkeras` command line (commander): `summary`, `predict`, `convert`.
 * `exitOverride` makes every usage error a thrown CommanderError, which the
 * entry point turns into exit code 2 (0 for `--help` and `--version`).
 * `onOutput` receives each command's output.
 */
export function buildProgram(commands: Commands, onOutput: (out: CommandOutput) => void, version: string): Command {
  const program = new Command('rxkeras')
    .description('Keras models from the command line: summary, predict, convert (.h5, .json, .yaml)')
    .version(version)
    .option('--custom-objects <module>', 'a module exporting customObjects (layers, losses, metrics, initializers ...) to register; repeatable', collect, [])
    .option('-v, --verbose', 'report the TensorFlow.js backend on stderr', false)
    .showSuggestionAfterError(true)
    .exitOverride();
  // Subcommands inherit exitOverride and the output settings from the program.
  program.configureHelp({ sortSubcommands: false });

  const globals = (): GlobalOptions => program.opts() as GlobalOptions;
  // Missing input files are reported before the backend loads (fast, one line, exit code 1).
  const run = (f: () => Promise<CommandOutput>, files: (string | undefined)[], check: () => void = () => {}) => async () => {
    for (const file of files) if (file !== undefined) accessSync(file, constants.R_OK);
    check();
    await commands.prepare(globals());
    onOutput(await f());
  };

  program
    .command('summary')
    .description("print the model's Keras summary table")
    .argument('<model>', 'whole-model .h5, or .json / .yaml architecture')
    .option('--weights <file>', 'weights .h5 (save_weights layout) to load')
    .action((model: string, options: { weights?: string }) => run(() => commands.summary(model, options), [model, options.weights])());

  program
    .command('predict')
    .description('run the model on HDF5 data sets; one data set per output, named after its output layer')
    .argument('<model>', 'whole-model .h5, or .json / .yaml architecture (with --weights)')
    .option('--weights <file>', 'weights .h5 (save_weights layout) to load')
    .requiredOption('--input <file:datasets>', 'FILE.h5:DATASET[,DATASET...], one data set per model input, in order; repeatable', collect)
    .requiredOption('--output <file>', "output .h5 file, or '-' for JSON on stdout")
    .option('--batch-size <n>', 'batch size', positiveInt, 32)
    .action((model: string, options: { weights?: string; input: string[]; output: string; batchSize: number }) =>
      run(() => commands.predict(model, options), [model, options.weights], () => checkPredict(model, options))(),
    );

  program
    .command('convert')
    .description('write the model as Keras JSON or YAML (architecture) or a whole-model .h5')
    .argument('<model>', 'whole-model .h5, or .json / .yaml architecture')
    .option('--weights <file>', 'weights .h5 (save_weights layout) to load')
    .addOption(new Option('--to <format>', 'output format').choices([...CONVERT_TARGETS]).makeOptionMandatory())
    .requiredOption('--output <file>', "output path ('-': stdout, for json and yaml)")
    .option('--weights-output <file>', 'with --to json|yaml: also save the weights (save_weights layout) here')
    .action((model: string, options: { weights?: string; to: ConvertTarget; output: string; weightsOutput?: string }) =>
      run(() => commands.convert(model, options), [model, options.weights], () => checkConvert(model, options))(),
    );

  return program;
}
