import { InvalidArgumentError } from '../core/errors.js';

let current: string | undefined;

/** The key of a functional model config's layer entry that lists its calls' devices (Keras ignores unknown keys there). */
export const DEVICES_KEY = 'rxkeras_devices';

/** '/cpu:N' or '/gpu:N' (TensorFlow's short device names). */
const DEVICE_NAME = /^\/(cpu|gpu):\d+$/;

/**
 * Keras's `with tf.device(name):` while building a functional model: every
 * layer call made inside `build` is placed on `device` ('/cpu:0' is the
 * main thread, '/cpu:1' ... and '/gpu:0' ... worker devices). Training
 * then runs those calls there (see src/models/placement.ts). Scopes nest;
 * the innermost wins. Returns what `build` returns.
 */
export function onDevice<T>(device: string, build: () => T): T {
  if (typeof device !== 'string' || !DEVICE_NAME.test(device)) throw new InvalidArgumentError('onDevice: device', "a device name such as '/cpu:1' or '/gpu:0'", device);
  const outer = current;
  current = device;
  try {
    return build();
  } finally {
    current = outer;
  }
}

/** The device of the innermost `onDevice` scope, if any. */
export function currentDevice(): string | undefined {
  return current;
}
