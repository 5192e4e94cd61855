import { isKeras1Config, legacyLayer } from './legacy.js';
import { recurrentRules, type ConfigOrigin } from './recurrent-rules.js';

/**
 * A layer's `{ class_name, config }` from a file, in the form rxkeras's layers
 * read: Keras 1 names and arguments converted, the version-dependent
 * recurrent defaults decided (a config without a version that uses Keras
 * 1's argument names was written by Keras 1), and the same done to the layers a wrapper
 * holds (`layer`, `backward_layer`), as Keras converts them when the wrapper
 * deserialises its inner layer.
 */
export function layerConfigRules(className: string, config: Record<string, unknown>, origin: ConfigOrigin): { className: string; config: Record<string, unknown> } {
  const known = origin.kerasVersion === undefined && isKeras1Config(className, config) ? { ...origin, kerasVersion: '1' } : origin;
  const legacy = legacyLayer(className, config);
  const c = recurrentRules(legacy.className, legacy.config, known);
  for (const key of ['layer', 'backward_layer']) {
    const inner = c[key];
    if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) continue;
    const { class_name: innerClass, config: innerConfig } = inner as { class_name?: unknown; config?: unknown };
    if (typeof innerClass !== 'string' || typeof innerConfig !== 'object' || innerConfig === null || Array.isArray(innerConfig)) continue;
    const converted = layerConfigRules(innerClass, innerConfig as Record<string, unknown>, known);
    c[key] = { ...inner, class_name: converted.className, config: converted.config };
  }
  return { className: legacy.className, config: c };
}
