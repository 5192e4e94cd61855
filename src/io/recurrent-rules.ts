/**
 * The defaults a Keras version decided for recurrent layers, applied to a
 * config as the Keras that wrote the file would have read it.
 */

/** What is known of the file a config comes from. */
export interface ConfigOrigin {
  /** The writer's `keras_version` ('1.2.2', '2.0.3', '2.2.4-tf'), when the file says. */
  kerasVersion?: string;
  /** The shapes of the layer's weights in the file (in file order), when the file has them. */
  weightShapes?: readonly (readonly number[])[];
}

/**
 * `implementation: 0` (Keras 2.0's default, and Keras 1's `consume_less: 'cpu'`)
 * is read as 1, as LSTM and GRU do from Keras 2.1 on ("implementation=0 has
 * been deprecated, and now defaults to implementation=1"). A GRU config
 * without `reset_after` was written before that argument existed, or by a
 * Keras that left it at its default: the weights decide when the file has
 * them (a (2, 3 * units) bias is reset_after, a (3 * units) one is not, as
 * `_convert_rnn_weights` in keras/engine/saving.py tells them apart); else a
 * standalone Keras version means its default, False. Without either, the
 * layer keeps tf.keras 2's default.
 */
export function recurrentRules(className: string, config: Record<string, unknown>, origin: ConfigOrigin): Record<string, unknown> {
  if (className !== 'LSTM' && className !== 'GRU') return config;
  const c = { ...config };
  if (c.implementation === 0) c.implementation = 1;
  if (className === 'GRU' && c.reset_after === undefined) {
    const resetAfter = resetAfterFromWeights(origin.weightShapes, c.units) ?? (isStandaloneKeras(origin.kerasVersion) ? false : undefined);
    if (resetAfter !== undefined) c.reset_after = resetAfter;
  }
  return c;
}

function resetAfterFromWeights(shapes: ConfigOrigin['weightShapes'], units: unknown): boolean | undefined {
  if (!shapes || typeof units !== 'number') return undefined;
  if (shapes.some((s) => s.length === 2 && s[0] === 2 && s[1] === 3 * units)) return true;
  if (shapes.some((s) => s.length === 1 && s[0] === 3 * units)) return false;
  return undefined;
}

/** Keras 1 and standalone Keras 2 write plain versions; tf.keras appends '-tf'. */
function isStandaloneKeras(version: string | undefined): boolean {
  return version !== undefined && /^[12](\.|$)/.test(version) && !version.endsWith('-tf');
}
