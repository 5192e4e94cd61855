/**
 * Kernels the wasm backend lacks (or has slow), built from kernels it has.
 *
 * Each kernel function runs tfjs-core ops on the active backend inside a
 * tidy. The engine runs kernels with the tape off (no gradient is recorded
 * for the inner ops) and accepts a Tensor as a kernel's output, so the tidy's
 * result is returned as is and every intermediate is disposed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { registerConv3dBackpropKernels } from './conv3d-backprop.js';
import { registerUnsortedSegmentSumKernel } from './unsorted-segment-sum.js';
import { asTensor } from './tensor-view.js';
import {
  conv2dFilterGrad,
  conv2dInputGrad,
  convGeometry,
  depthwiseFilterGrad,
  depthwiseInputGrad,
  type ConvPad,
} from './conv-backprop.js';
import { maxPoolGradKernel } from './max-pool-grad.js';
import { withContiguousSlice } from './slice.js';
import { withRowGather } from './gather-rows.js';

type Rounding = 'floor' | 'round' | 'ceil' | undefined;
type Attrs = Record<string, unknown>;

/** Runs `f` on Tensor views of the kernel's inputs inside a tidy. */
function withInputs<T extends tf.Tensor>(infos: tf.TensorInfo[], f: (...ts: tf.Tensor[]) => T): T {
  return tf.tidy(() => f(...infos.map(asTensor)));
}


function requireNHWC(kernel: string, dataFormat: unknown): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC')
    throw new Error(`${kernel} on wasm: expected dataFormat 'NHWC' (the only one wasm convolutions support), got '${String(dataFormat)}'`);
}

const conv2dBackpropFilter: tf.KernelFunc = ({ inputs, attrs }) => {
  const a = (attrs ?? {}) as Attrs;
  requireNHWC('Conv2DBackpropFilter', a.dataFormat);
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const filterShape = a.filterShape as number[];
  const g = convGeometry(x.shape, filterShape, a.strides as number[], a.dilations as number[] | undefined, a.pad as ConvPad, a.dimRoundingMode as Rounding, false);
  return withInputs([x, dy], (xt, dyt) => conv2dFilterGrad(xt as tf.Tensor4D, dyt as tf.Tensor4D, filterShape, g));
};

const conv2dBackpropInput: tf.KernelFunc = ({ inputs, attrs }) => {
  const a = (attrs ?? {}) as Attrs;
  requireNHWC('Conv2DBackpropInput', a.dataFormat);
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const inputShape = a.inputShape as number[];
  const g = convGeometry(inputShape, filter.shape, a.strides as number[], a.dilations as number[] | undefined, a.pad as ConvPad, a.dimRoundingMode as Rounding, false);
  return withInputs([dy, filter], (dyt, ft) => conv2dInputGrad(dyt as tf.Tensor4D, ft as tf.Tensor4D, inputShape, g));
};

const depthwiseBackpropFilter: tf.KernelFunc = ({ inputs, attrs }) => {
  const a = (attrs ?? {}) as Attrs;
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const filterShape = a.filterShape as number[];
  const g = convGeometry(x.shape, filterShape, a.strides as number[], a.dilations as number[] | undefined, a.pad as ConvPad, a.dimRoundingMode as Rounding, true);
  return withInputs([x, dy], (xt, dyt) => depthwiseFilterGrad(xt as tf.Tensor4D, dyt as tf.Tensor4D, filterShape, g));
};

const depthwiseBackpropInput: tf.KernelFunc = ({ inputs, attrs }) => {
  const a = (attrs ?? {}) as Attrs;
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const inputShape = a.inputShape as number[];
  const g = convGeometry(inputShape, filter.shape, a.strides as number[], a.dilations as number[] | undefined, a.pad as ConvPad, a.dimRoundingMode as Rounding, true);
  return withInputs([dy, filter], (dyt, ft) => depthwiseInputGrad(dyt as tf.Tensor4D, ft as tf.Tensor4D, inputShape, g));
};

/** Swaps the last two axes. */
function transposeLast2(t: tf.Tensor): tf.Tensor {
  const perm = t.shape.map((_, i) => i);
  const r = perm.length;
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return tf.transpose(t, perm);
}

/**
 * The wasm matmul runs at ~2 GFLOP/s when an operand is transposed and at
 * XNNPACK speed (~25 per thread) when not; an explicit Transpose first costs
 * one copy of the operand. Wraps the stock kernel (BatchMatMul, _FusedMatMul).
 */
function withExplicitTranspose(stock: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = (args) => {
    const attrs = (args.attrs ?? {}) as Attrs;
    if (!attrs.transposeA && !attrs.transposeB) return stock.kernelFunc(args);
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const temps: tf.Tensor[] = [];
    const plain = (info: tf.TensorInfo, transpose: unknown): tf.TensorInfo => {
      if (!transpose) return info;
      const t = tf.tidy(() => transposeLast2(asTensor(info)));
      temps.push(t);
      return t;
    };
    try {
      return stock.kernelFunc({
        ...args,
        inputs: { ...args.inputs, a: plain(a, attrs.transposeA), b: plain(b, attrs.transposeB) },
        attrs: { ...attrs, transposeA: false, transposeB: false },
      });
    } finally {
      tf.dispose(temps);
    }
  };
  return { ...stock, kernelFunc };
}

/**
 * The stock wasm Conv2D and DepthwiseConv2dNative (XNNPACK's own 'same'
 * padding), given pad 'same', compute wrong values in some shapes with
 * unequal strides (e.g. depthwise, x [1,2,2,1], filter [1,2,1,1], strides
 * [2,1]: zeros instead of [5,2]); with the same padding spelled out
 * explicitly they are right. Wraps the stock kernel to pass tfjs's own
 * 'same' padding explicitly.
 */
function withExplicitSamePadding(stock: tf.KernelConfig, depthwise: boolean): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = (args) => {
    const attrs = (args.attrs ?? {}) as Attrs;
    if (attrs.pad !== 'same') return stock.kernelFunc(args);
    const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      attrs.strides as [number, number],
      (attrs.dilations ?? 1) as [number, number],
      'same',
      attrs.dimRoundingMode as Rounding,
      depthwise,
    );
    const { top, bottom, left, right } = info.padInfo;
    const pad = [[0, 0], [top, bottom], [left, right], [0, 0]] as unknown as tf.NamedAttrMap[string];
    return stock.kernelFunc({ ...args, attrs: { ...attrs, pad } });
  };
  return { ...stock, kernelFunc };
}

/** The kernels rxkeras adds to (or replaces on) the wasm backend. */
export const WASM_KERNEL_NAMES = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'MaxPoolGrad',
  'BatchMatMul',
  '_FusedMatMul',
  'Conv2D',
  'FusedConv2D',
  'DepthwiseConv2dNative',
  'FusedDepthwiseConv2D',
  'Slice',
  'GatherV2',
] as const;
export type WasmKernelName = (typeof WASM_KERNEL_NAMES)[number];

const stockKernels = new Map<string, tf.KernelConfig | undefined>();
const replaced = new Set<string>();

function kernelConfigs(): Record<WasmKernelName, tf.KernelConfig | undefined> {
  const stock = (name: string): tf.KernelConfig | undefined => {
    if (!stockKernels.has(name)) stockKernels.set(name, tf.getKernel(name, 'wasm'));
    return stockKernels.get(name);
  };
  const make = (kernelName: string, kernelFunc: tf.KernelFunc): tf.KernelConfig => ({ kernelName, backendName: 'wasm', kernelFunc });
  for (const name of WASM_KERNEL_NAMES) stock(name);
  const batchMatMul = stock('BatchMatMul');
  const fusedMatMul = stock('_FusedMatMul');
  const conv = stock('Conv2D');
  const fusedConv = stock('FusedConv2D');
  const depthwise = stock('DepthwiseConv2dNative');
  const fusedDepthwise = stock('FusedDepthwiseConv2D');
  const slice = stock('Slice');
  const gather = stock('GatherV2');
  return {
    Conv2DBackpropFilter: make('Conv2DBackpropFilter', conv2dBackpropFilter),
    Conv2DBackpropInput: make('Conv2DBackpropInput', conv2dBackpropInput),
    DepthwiseConv2dNativeBackpropFilter: make('DepthwiseConv2dNativeBackpropFilter', depthwiseBackpropFilter),
    DepthwiseConv2dNativeBackpropInput: make('DepthwiseConv2dNativeBackpropInput', depthwiseBackpropInput),
    MaxPoolGrad: make('MaxPoolGrad', maxPoolGradKernel),
    BatchMatMul: batchMatMul && withExplicitTranspose(batchMatMul),
    _FusedMatMul: fusedMatMul && withExplicitTranspose(fusedMatMul),
    Conv2D: conv && withExplicitSamePadding(conv, false),
    FusedConv2D: fusedConv && withExplicitSamePadding(fusedConv, false),
    DepthwiseConv2dNative: depthwise && withExplicitSamePadding(depthwise, true),
    FusedDepthwiseConv2D: fusedDepthwise && withExplicitSamePadding(fusedDepthwise, true),
    Slice: slice && withContiguousSlice(slice),
    GatherV2: gather && withRowGather(gather),
  };
}

/**
 * Registers rxkeras's wasm kernels (all, or the named ones), replacing the
 * stock kernel of the same name. Idempotent. Called once when the wasm
 * backend is chosen.
 */
export function registerWasmKernels(only: readonly WasmKernelName[] = WASM_KERNEL_NAMES): void {
  registerConv3dBackpropKernels();
  registerUnsortedSegmentSumKernel();
  const configs = kernelConfigs();
  for (const name of only) {
    const config = configs[name];
    if (!config || replaced.has(name)) continue;
    if (tf.getKernel(name, 'wasm')) tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(config);
    replaced.add(name);
  }
}

/** Puts back the stock wasm kernels (or none, where wasm had none): for benchmarks and tests. */
export function restoreStockWasmKernels(only: readonly WasmKernelName[] = WASM_KERNEL_NAMES): void {
  for (const name of only) {
    if (!replaced.has(name)) continue;
    tf.unregisterKernel(name, 'wasm');
    const stock = stockKernels.get(name);
    if (stock) tf.registerKernel(stock);
    replaced.delete(name);
  }
}
