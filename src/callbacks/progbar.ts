import cliProgress from 'cli-progress';
import type { Callback } from '../training/events.js';
import type { Logs } from '../training/types.js';
import { callbackOperator } from './callback-operator.js';
import { pyPercent } from './python-format.js';

/** Where the progress goes: process.stdout, or anything with `write` (a TTY when `isTTY`). */
export interface ProgbarStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface ProgbarOptions {
  /** 0 silent, 1 a progress bar per epoch, 2 one line per epoch (Keras's `verbose`, default 1). */
  verbose?: 0 | 1 | 2;
  /** Default process.stdout. */
  stream?: ProgbarStream;
  /** The clock, in milliseconds (default performance.now). */
  now?: () => number;
  /** Least time between two redraws of the live bar, in seconds (Keras's `interval`, default 0.05). */
  interval?: number;
}

const WIDTH = 30;

/**
 * Keras's `ProgbarLogger` and `Progbar`, printing as tf.keras 2 prints.
 * `Epoch 3/10` before each epoch when there is more than one. Then:
 *
 * - verbose 1: `250/250 [==============================] - 2s 6ms/step - loss: 0.1234 - val_loss: 0.2345`
 *   at the end of each epoch; on a terminal (`isTTY`) a live bar
 *   ` 37/250 [====>.........................] - ETA: 1s - loss: 0.1500` is
 *   redrawn in place (by cli-progress) as batches end. Elsewhere only the final line is printed.
 * - verbose 2: `250/250 - 2s - loss: 0.1234 - val_loss: 0.2345 - 2s/epoch - 6ms/step`.
 *
 * Values print as `%.4f`, or `%.4e` when small (|v| <= 1e-3; verbose 2: v <= 1e-3).
 */
export function progbar(options: ProgbarOptions = {}): Callback {
  const verbose = options.verbose ?? 1;
  const stream = options.stream ?? process.stdout;
  const now = options.now ?? (() => performance.now());
  const interval = (options.interval ?? 0.05) * 1000;
  const live = verbose === 1 && stream.isTTY === true;
  return callbackOperator(() => {
    let epochs = 0;
    let target: number | undefined;
    let start = 0;
    let afterFirstStep: number | undefined;
    let seen = 0;
    let bar: cliProgress.SingleBar | undefined;
    const stepDuration = (current: number, t: number): number => {
      if (current === 0) return 0;
      if (afterFirstStep !== undefined && current > 1) return (t - afterFirstStep) / (current - 1);
      return (t - start) / current;
    };
    /** The live line Keras draws after a batch: `3/4 [=====>....] - ETA: 0s - loss: 0.2200`. */
    const liveText = (current: number, logs: Logs, t: number): string => {
      const head = target === undefined ? `${String(current).padStart(7)}/Unknown` : barText(current, target);
      const perStep = stepDuration(current, t) / 1000;
      const info =
        target === undefined
          ? ` - ${pyPercent((t - start) / 1000, '.0f')}s${formatTime(perStep, 'step')}`
          : ` - ETA: ${formatEta(perStep * (target - current))}`;
      return head + info + valuesText(logs, (v) => Math.abs(v) > 1e-3);
    };
    const stopBar = () => {
      bar?.stop();
      bar = undefined;
    };
    return {
      teardown: stopBar,
      before(e) {
        if (verbose === 0) return;
        switch (e.type) {
          case 'fitStart':
            epochs = e.params.epochs;
            target = e.params.steps;
            break;
          case 'epochStart':
            if (epochs > 1) stream.write(`Epoch ${e.epoch + 1}/${epochs}\n`);
            start = now();
            afterFirstStep = undefined;
            seen = 0;
            if (live) {
              // cli-progress redraws the line in place, at most every `interval`; the text is Keras's.
              bar = new cliProgress.SingleBar({
                format: (_options, _params, payload: { line?: string }) => payload.line ?? '',
                stream: stream as NodeJS.WritableStream,
                fps: 1000 / interval,
                synchronousUpdate: true,
                hideCursor: false,
                clearOnComplete: true,
                gracefulExit: false,
              });
              bar.start(target ?? 0, 0, { line: '' });
            }
            break;
          case 'batchEnd': {
            const t = now();
            seen = e.batch + 1;
            if (seen === 1) afterFirstStep = t;
            bar?.update(seen, { line: liveText(seen, e.logs, t) });
            break;
          }
          case 'epochEnd': {
            const t = now();
            const total = target ?? seen;
            const elapsed = (t - start) / 1000;
            stopBar();
            if (verbose === 1) {
              stream.write(`${barText(total, total)} - ${pyPercent(elapsed, '.0f')}s${formatTime(stepDuration(total, t) / 1000, 'step')}${valuesText(e.logs, (v) => Math.abs(v) > 1e-3)}\n`);
            } else {
              const count = `${String(total).padStart(digits(total))}/${total}`;
              const perStep = total > 0 ? elapsed / total : 0;
              stream.write(`${count} - ${pyPercent(elapsed, '.0f')}s${valuesText(e.logs, (v) => v > 1e-3)} -${formatTime(elapsed, 'epoch')} -${formatTime(perStep, 'step')}\n`);
            }
            break;
          }
        }
      },
    };
  });
}

/** `- loss: 0.1234 - accuracy: 0.9650`, as Keras's Progbar prints logs (`%.4f`, or `%.4e` when not `large`). */
export function formatLogs(logs: Logs, large: (v: number) => boolean = (v) => Math.abs(v) > 1e-3): string {
  return valuesText(logs, large).slice(1);
}

function valuesText(logs: Logs, large: (v: number) => boolean): string {
  return Object.entries(logs)
    .map(([k, v]) => ` - ${k}: ${pyPercent(v, large(v) ? '.4f' : '.4e')}`)
    .join('');
}

/** `%{n}d/%d [====>....]`, the bar Keras draws for `current` of `target`. */
function barText(current: number, target: number): string {
  let bar = `${String(current).padStart(digits(target))}/${target} [`;
  const width = target > 0 ? Math.floor((WIDTH * current) / target) : WIDTH;
  if (width > 0) bar += '='.repeat(width - 1) + (current < target ? '>' : '=');
  return `${bar}${'.'.repeat(Math.max(0, WIDTH - width))}]`;
}

function digits(n: number): number {
  return n > 0 ? Math.floor(Math.log10(n)) + 1 : 1;
}

/** Keras's `_format_time`: ` 2s/epoch`, ` 6ms/step`, ` 80us/step`. */
function formatTime(seconds: number, unit: string): string {
  if (seconds >= 1 || seconds === 0) return ` ${pyPercent(seconds, '.0f')}s/${unit}`;
  if (seconds >= 1e-3) return ` ${pyPercent(seconds * 1e3, '.0f')}ms/${unit}`;
  return ` ${pyPercent(seconds * 1e6, '.0f')}us/${unit}`;
}

/** Keras's ETA: `1:02:03`, `2:05`, `42s` (truncated, as Python's %d). */
function formatEta(eta: number): string {
  const two = (n: number) => String(Math.floor(n)).padStart(2, '0');
  if (eta > 3600) return `${Math.floor(eta / 3600)}:${two((eta % 3600) / 60)}:${two(eta % 60)}`;
  if (eta > 60) return `${Math.floor(eta / 60)}:${two(eta % 60)}`;
  return `${Math.floor(eta)}s`;
}
