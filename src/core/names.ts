/**
 * Keras's default layer names: the snake_case class name, then `_1`, `_2`
 * for later layers of the same kind (`dense`, `dense_1`, ...), counted per
 * process as tf.keras 2 does. Input layers start at `input_1`.
 */
const counters = new Map<string, number>();

export function uniqueName(prefix: string, zeroBased = true): string {
  const n = counters.get(prefix) ?? (zeroBased ? 0 : 1);
  counters.set(prefix, n + 1);
  return n === 0 ? prefix : `${prefix}_${n}`;
}

/** Forgets every count, as `keras.backend.clear_session()` does. */
export function resetNames(): void {
  counters.clear();
}

/** Keras's `to_snake_case`: 'Conv2D' -> 'conv2d', 'LeakyReLU' -> 'leaky_re_lu'. */
export function toSnakeCase(name: string): string {
  const intermediate = name.replace(/(.)([A-Z][a-z0-9]+)/g, '$1_$2');
  const insecure = intermediate.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
  return insecure[0] !== '_' ? insecure : `private${insecure}`;
}
