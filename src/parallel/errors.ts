import { RxKerasError } from '../core/errors.js';

/**
 * A device's work failed: its code threw (a bad shard, a backend that ran
 * out of memory), its worker died, or it did not answer in time. `device`
 * names it ('/cpu:1'), `step` is the training step (or undefined outside
 * training), `reason` says which of those happened.
 */
export class DeviceError extends RxKerasError {
  constructor(
    readonly device: string,
    readonly step: number | undefined,
    readonly reason: 'threw' | 'out-of-memory' | 'died' | 'timeout' | 'disposed',
    detail: string,
  ) {
    super(`device ${device}${step === undefined ? '' : ` at step ${step}`}: ${detail}`);
  }
}

/** A device name that is not of the form '/cpu:N' or '/gpu:N', or names no device there is. */
export class UnknownDeviceError extends RxKerasError {
  constructor(
    readonly device: string,
    readonly known: readonly string[],
  ) {
    super(`unknown device '${device}'. Known: ${known.join(', ')}`);
  }
}
