import type { Servable, VersionState } from './servable.js';
import type { TensorSpec } from './signature.js';

/**
 * TF Serving's model status and metadata answers, laid out as it prints
 * them (protobuf's JSON printer: one-space indent, int64 as strings, a
 * trailing newline; metadata glued from two printed messages).
 */
export function formatModelStatus(versions: { version: number; state: VersionState }[]): string {
  const body = {
    model_version_status: versions.map((v) => ({
      version: String(v.version),
      state: v.state,
      status: { error_code: 'OK', error_message: '' },
    })),
  };
  return `${JSON.stringify(body, null, 1)}\n`;
}

/** GetModelMetadata: the `serving_default` signature a Keras model exported to a SavedModel has. */
export function formatModelMetadata(servable: Servable): string {
  const spec = { name: servable.name, signature_name: '', version: String(servable.version) };
  const info = (t: TensorSpec, tensorName: string) => ({
    dtype: t.dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT',
    tensor_shape: { dim: t.shape.map((d) => ({ size: String(d ?? -1), name: '' })), unknown_rank: false },
    name: tensorName,
  });
  const { inputs, outputs } = servable.signature;
  const signatures = {
    signature_def: {
      serving_default: {
        inputs: Object.fromEntries(inputs.map((t) => [t.name, info(t, `serving_default_${t.name}:0`)])),
        outputs: Object.fromEntries(outputs.map((t, i) => [t.name, info(t, `StatefulPartitionedCall:${i}`)])),
        method_name: 'tensorflow/serving/predict',
      },
    },
  };
  const print = (x: unknown) => `${JSON.stringify(x, null, 1)}\n`;
  return `{\n"model_spec":${print(spec)},\n"metadata": {"signature_def": ${print(signatures)}}\n}\n`;
}
