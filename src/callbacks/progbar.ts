import { tap } from 'rxjs';
import cliProgress from 'cli-progress';
import type { Callback } from '../training/events.js';
import type { Logs } from '../training/types.js';

export interface ProgbarOptions {
  /** 0 silent, 1 a progress bar per epoch, 2 one line per epoch (Keras's `verbose`). */
  verbose?: 0 | 1 | 2;
  stream?: NodeJS.WriteStream;
}

/**
 * Keras's progress output. verbose 1: `Epoch 3/10`, then a live bar
 * `250/250 [==============================] - 2s 6ms/step - loss: 0.1234`
 * (on a terminal; elsewhere only its final line). verbose 2: the final line
 * of each epoch only, without the bar.
 */
export function progbar(options: ProgbarOptions = {}): Callback {
  const verbose = options.verbose ?? 1;
  const stream = options.stream ?? process.stdout;
  let epochs = 0;
  let steps: number | undefined;
  let started = 0;
  let bar: cliProgress.SingleBar | undefined;
  return tap({
    next: (e) => {
      if (verbose === 0) return;
      switch (e.type) {
        case 'fitStart':
          epochs = e.params.epochs;
          steps = e.params.steps;
          break;
        case 'epochStart':
          stream.write(`Epoch ${e.epoch + 1}/${epochs}\n`);
          started = performance.now();
          if (verbose === 1 && stream.isTTY && steps !== undefined) {
            bar = new cliProgress.SingleBar(
              {
                format: `{value}/{total} [{bar}] - ETA: {eta_formatted} {logs}`,
                barCompleteChar: '=',
                barIncompleteChar: '.',
                barsize: 30,
                stream,
                hideCursor: false,
                clearOnComplete: true,
                fps: 10,
              },
              cliProgress.Presets.legacy,
            );
            bar.start(steps, 0, { logs: '' });
          }
          break;
        case 'batchEnd':
          bar?.update(e.batch + 1, { logs: formatLogs(e.logs) });
          break;
        case 'epochEnd': {
          bar?.stop();
          bar = undefined;
          const seconds = (performance.now() - started) / 1000;
          const perStep = steps ? `${Math.round((seconds * 1000) / steps)}ms/step` : '';
          const head = steps ? `${steps}/${steps}` : '';
          const progress = verbose === 1 ? ` [${'='.repeat(30)}]` : '';
          stream.write(`${head}${progress} - ${Math.round(seconds)}s ${perStep} ${formatLogs(e.logs)}\n`);
          break;
        }
      }
    },
    finalize: () => bar?.stop(),
  });
}

/** `- loss: 0.1234 - accuracy: 0.9650`, as Keras prints logs. */
export function formatLogs(logs: Logs): string {
  return Object.entries(logs)
    .map(([k, v]) => `- ${k}: ${Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(4) : v.toFixed(4)}`)
    .join(' ');
}
