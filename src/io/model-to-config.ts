import { stringifyYAML } from './yaml.js';

/** The `keras_version` rxkeras writes: the Keras 2 layout its files follow. */
export const KERAS_VERSION = '2.4.0';
/** The `backend` rxkeras writes, as tf.keras does. */
export const KERAS_BACKEND = 'tensorflow';

/** What a model config is written from: a model (or any layer) value's class name and Keras config. */
export interface Configurable {
  readonly className: string;
  getConfig(): object;
}

/** Keras's `{ class_name, config }` of a model. */
export function modelToConfig(model: Configurable): { class_name: string; config: Record<string, unknown> } {
  return { class_name: model.className, config: model.getConfig() as Record<string, unknown> };
}

/** Keras 2's `model.to_json()`: `{ class_name, config, keras_version, backend }`. */
export function toJSON(model: Configurable, indent?: number): string {
  return JSON.stringify({ ...modelToConfig(model), keras_version: KERAS_VERSION, backend: KERAS_BACKEND }, null, indent);
}

/** Keras 2's `model.to_yaml()`, as plain YAML (lists as sequences; Keras reads them back as lists). */
export function toYAML(model: Configurable): string {
  return stringifyYAML({ backend: KERAS_BACKEND, class_name: model.className, config: model.getConfig(), keras_version: KERAS_VERSION });
}
