import { accessSync, constants } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { checkConvert, checkData, checkPlot, checkPredict, checkServe } from './checks.js';
import { CONVERT_TARGETS, type ConvertTarget } from './model-format.js';
import type { PlotOptions } from './plot-command.js';
import type { ServeOptions } from './serve-command.js';
import type { FitCommandOptions } from './fit-command.js';
import type { EvaluateCommandOptions } from './evaluate-command.js';

/** Graphviz's rank directions, as `rxkeras plot --rankdir` takes them. */
export const RANKDIRS = ['TB', 'LR', 'BT', 'RL'] as const;


/** What a command's action returns: text for stdout and lines for stderr. */
export interface CommandOutput {
  stdout?: string;
  stderr?: string[];
  /** The process's exit code, when the command decides it (launch: the first failure's). */
  exitCode?: number;
}

/** The command implementations, given to the parser (loaded lazily: `--help` and usage errors never load TensorFlow.js). */
export interface Commands {
  /** Runs before any command: backend, custom objects. */
  prepare(globals: GlobalOptions): Promise<void>;
  summary(model: string, options: { weights?: string }): Promise<CommandOutput>;
  predict(model: string, options: { weights?: string; input: string[]; output: string; batchSize?: number }): Promise<CommandOutput>;
  convert(model: string, options: { weights?: string; to: ConvertTarget; output: string; weightsOutput?: string }): Promise<CommandOutput>;
  plot(model: string, options: PlotOptions): Promise<CommandOutput>;
  fit(model: string, options: FitCommandOptions): Promise<CommandOutput>;
  evaluate(model: string, options: EvaluateCommandOptions): Promise<CommandOutput>;
  launch(script: string, args: string[], options: LaunchCommandOptions): Promise<CommandOutput>;
  /** Runs until SIGINT or SIGTERM. */
  serve(models: string[], options: ServeOptions): Promise<CommandOutput>;
}

export interface LaunchCommandOptions {
  nproc: number;
  store?: string;
  nnodes?: number;
  nodeRank?: number;
  worldSize?: number;
  rankOffset?: number;
  runId?: string;
  host?: string;
  iface?: string;
  timeout?: number;
}

export interface GlobalOptions {
  /** Modules whose `customObjects` (or default) export is registered before the model loads. */
  customObjects: string[];
  /** Report the backend on stderr. */
  verbose: boolean;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected an integer >= 0.');
  return n;
}

function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number >= 0.');
  return n;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number (0 to 65535; 0 picks a free one).');
  return n;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected an integer >= 1.');
  return n;
}

function fraction(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n < 1)) throw new InvalidArgumentError('expected a number in [0, 1).');
  return n;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/**
 * The `rxkeras` command line (commander): `summary`, `predict`, `convert`, `plot`, `fit`, `evaluate`, `launch`, `serve`.
 * `exitOverride` makes every usage error a thrown CommanderError, which the
 * entry point turns into exit code 2 (0 for `--help` and `--version`).
 * `onOutput` receives each command's output.
 */
export function buildProgram(commands: Commands, onOutput: (out: CommandOutput) => void, version: string): Command {
  const program = new Command('rxkeras')
    .description('Keras models from the command line: summary, predict, convert, plot, fit, evaluate, serve (.h5, .json, .yaml, TF.js model.json); launch for training across processes')
    .version(version)
    .option('--custom-objects <module>', 'a module exporting customObjects (layers, losses, metrics, initializers ...) to register; repeatable', collect, [])
    .option('-v, --verbose', 'report the TensorFlow.js backend on stderr', false)
    .showSuggestionAfterError(true)
    // Global options go before the command, so that `launch` passes the script's own options through.
    .enablePositionalOptions()
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
    .argument('<model>', 'whole-model .h5, TF.js model.json, or .json / .yaml architecture')
    .option('--weights <file>', 'weights .h5 (save_weights layout) to load')
    .action((model: string, options: { weights?: string }) => run(() => commands.summary(model, options), [model, options.weights])());

  program
    .command('predict')
    .description('run the model on HDF5 data sets; one data set per output, named after its output layer')
    .argument('<model>', 'whole-model .h5, TF.js model.json, or .json / .yaml architecture (with --weights)')
    .option('--weights <file>', 'weights .h5 (save_weights layout) to load')
    .requiredOption('--input <file:datasets>', 'FILE.h5:DATASET[,DATASET...], one data set per model input, in order; repeatable', collect)
    .requiredOption('--output <file>', "output .h5 file, or '-' for JSON on stdout")
    .option('--batch-size <n>', 'batch size', positiveInt, 32)
    .action((model: string, options: { weights?: string; input: string[]; output: string; batchSize: number }) =>
      run(() => commands.predict(model, options), [model, options.weights], () => checkPredict(model, options))(),
    );

  program
    .command('convert')
    .description('write the model as Keras JSON or YAML (architecture), a whole-model .h5, or a TF.js layers model folder')
    .argument('<model>', 'whole-model .h5, TF.js model.json, or .json / .yaml architecture')
    .option('--weights <file>', 'weights .h5 (save_weights layout) to load')
    .addOption(new Option('--to <format>', 'output format').choices([...CONVERT_TARGETS]).makeOptionMandatory())
    .requiredOption('--output <file>', "output path ('-': stdout, for json and yaml; a folder for tfjs)")
    .option('--weights-output <file>', 'with --to json|yaml: also save the weights (save_weights layout) here')
    .action((model: string, options: { weights?: string; to: ConvertTarget; output: string; weightsOutput?: string }) =>
      run(() => commands.convert(model, options), [model, options.weights], () => checkConvert(model, options))(),
    );

  program
    .command('plot')
    .description("draw the model's graph as Keras's plot_model does: one box per layer (.svg, .png or .dot, by the output's extension)")
    .argument('<model>', 'whole-model .h5, or .json / .yaml architecture')
    .requiredOption('--output <file>', 'the picture: .svg, .png or .dot')
    .option('--show-shapes', 'show input and output shapes in each box', false)
    .option('--no-layer-names', "show the class only, not 'name: Class'")
    .addOption(new Option('--rankdir <dir>', 'TB: top to bottom; LR: left to right').choices([...RANKDIRS]).default('TB'))
    .option('--expand-nested', 'draw the layers of nested models inside dashed clusters', false)
    .option('--dpi <n>', 'dots per inch', positiveInt, 96)
    .action((model: string, options: PlotOptions & { layerNames: boolean }) => {
      const { layerNames, ...rest } = options;
      const plot: PlotOptions = { ...rest, showLayerNames: layerNames };
      return run(() => commands.plot(model, plot), [model], () => checkPlot(plot))();
    });

  program
    .command('launch')
    .description('run a training script in N processes that join one group (as torchrun); one launch per host')
    .argument('<script>', 'the script (TypeScript or JavaScript); it calls initDistributed()')
    .argument('[args...]', "the script's own arguments")
    .requiredOption('--nproc <n>', 'processes on this host', positiveInt)
    .option('--store <address>', 'where the processes meet: redis://HOST:PORT or file:///PATH (one host: a temporary file store)')
    .option('--nnodes <n>', 'hosts in the run, each launching --nproc processes', positiveInt)
    .option('--node-rank <k>', "this host's index (ranks start at k x nproc)", nonNegativeInt)
    .option('--world-size <n>', 'processes in the whole run (hosts with different --nproc)', positiveInt)
    .option('--rank-offset <k>', "rank of this host's first process", nonNegativeInt)
    .option('--run-id <id>', 'names the run in the store: the same on every host, a new one for each relaunch (one host: random)')
    .option('--host <address>', 'address the processes listen on and advertise (one host: 127.0.0.1)')
    .option('--iface <name>', 'or the network interface whose address they use')
    .option('--timeout <ms>', 'bound on joining and on every collective operation', positiveInt)
    .passThroughOptions()
    .action(async (script: string, args: string[], options: LaunchCommandOptions) => {
      accessSync(script, constants.R_OK);
      onOutput(await commands.launch(script, args, options));
    });

  program
    .command('serve')
    .description("serve models over TF Serving's REST API (POST /v1/models/NAME:predict), batching concurrent requests; Ctrl-C drains and stops")
    .argument('<models...>', 'whole-model .h5 files, or .json / .yaml architectures (each with a --weights)')
    .option('--name <name>', 'the i-th --name names the i-th model (default: the file name without extension); a name given twice serves versions 1, 2, ...', collect)
    .option('--weights <file>', 'weights .h5 (save_weights layout) of the i-th .json / .yaml model; repeatable', collect)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port to listen on (0: any free port)', port, 8501)
    .option('--max-batch-size <n>', 'rows in one batch at most', positiveInt, 64)
    .option('--max-delay-ms <ms>', 'how long the first request of a batch waits for others', nonNegativeNumber, 2)
    .option('--max-queue <n>', 'requests waiting for a batch at most (more are answered 429)', positiveInt, 1024)
    .action((models: string[], options: ServeOptions) => run(() => commands.serve(models, options), [...models, ...(options.weights ?? [])], () => checkServe(models, options))());

  // fit and evaluate: a compiled .h5 and its data, one HDF5 data set per model input (--x) and output (--y).
  const dataCommand = (name: string, description: string) =>
    program
      .command(name)
      .description(description)
      .argument('<model>', 'whole-model .h5 saved compiled (with its training_config)')
      .requiredOption('--x <file:datasets>', 'FILE.h5:DATASET[,DATASET...], one data set per model input, in order; repeatable', collect)
      .requiredOption('--y <file:datasets>', 'FILE.h5:DATASET[,DATASET...], one data set per model output, in order; repeatable', collect)
      .option('--batch-size <n>', 'batch size', positiveInt, 32);

  dataCommand('fit', "train a compiled Keras .h5 (its training_config) on HDF5 data streamed from disk, with Keras's progress bar")
    .requiredOption('--output <file>', 'the trained model (.h5)')
    .option('--epochs <n>', 'epochs', positiveInt, 1)
    .option('--validation-split <f>', 'the last fraction of the rows, held out for validation', fraction)
    .option('--early-stopping-patience <n>', 'stop after this many epochs without improvement of val_loss (loss without validation)', nonNegativeInt)
    .option('--checkpoint <path>', 'save the model every epoch (ModelCheckpoint; {epoch:02d} and log names format the path)')
    .option('--csv-log <file>', 'one CSV row of logs per epoch (CSVLogger)')
    .option('--tensorboard <dir>', 'TensorBoard event files in this folder')
    .option('--no-shuffle', 'keep the rows in file order (default: reshuffled every epoch)')
    .option('--seed <n>', 'seed of the shuffling and of dropout', nonNegativeInt)
    .action((model: string, options: FitCommandOptions) =>
      run(() => commands.fit(model, options), [model], () => checkData(model, options, [options.output, options.csvLog]))(),
    );

  dataCommand('evaluate', 'the loss and metrics of a compiled Keras .h5 on HDF5 data streamed from disk').action((model: string, options: EvaluateCommandOptions) =>
    run(() => commands.evaluate(model, options), [model], () => checkData(model, options, []))(),
  );

  return program;
}
