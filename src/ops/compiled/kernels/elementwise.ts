import * as tf from '@tensorflow/tfjs-core';
import { attr, onnxType, spec, type KernelSpec, type LowerContext, type Meta } from './kernel.js';

const same = ([x]: Meta[]): Meta => ({ shape: [...x.shape], dtype: x.dtype });
const asBool = ([x]: Meta[]): Meta => ({ shape: [...x.shape], dtype: 'bool' });
const broadcast = (dtype?: 'bool') => ([a, b]: Meta[]): Meta => ({
  shape: tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape),
  dtype: dtype ?? a.dtype,
});

/** A kernel that is one ONNX op of the same inputs. */
const direct = (name: string, op: string, inputs: readonly string[], infer: (m: Meta[]) => Meta, attrs: (a: Record<string, any>) => ReturnType<typeof attr.int>[] = () => []): KernelSpec =>
  spec(name, inputs, infer, (ctx, a) => void ctx.node(op, ctx.inputs, attrs(a), ctx.outputs));

const unary = (name: string, op: string) => direct(name, op, ['x'], same);
const binary = (name: string, op: string, bool = false) => direct(name, op, ['a', 'b'], broadcast(bool ? 'bool' : undefined));

/** `f(x)` written with a few ONNX nodes. */
const composite = (name: string, f: (ctx: LowerContext, x: string, dtype: Meta['dtype']) => string) =>
  spec(name, ['x'], same, (ctx) => void ctx.node('Identity', [f(ctx, ctx.inputs[0], ctx.inputMetas[0].dtype)], [], ctx.outputs));

export const elementwiseKernels: KernelSpec[] = [
  unary('Abs', 'Abs'), unary('Neg', 'Neg'), unary('Exp', 'Exp'), unary('Log', 'Log'), unary('Sqrt', 'Sqrt'),
  unary('Relu', 'Relu'), unary('Sigmoid', 'Sigmoid'), unary('Tanh', 'Tanh'), unary('Floor', 'Floor'), unary('Ceil', 'Ceil'),
  unary('Round', 'Round'), unary('Sin', 'Sin'), unary('Cos', 'Cos'), unary('Reciprocal', 'Reciprocal'), unary('Sign', 'Sign'),
  unary('Erf', 'Erf'), unary('Softplus', 'Softplus'), unary('Identity', 'Identity'), unary('Elu', 'Elu'), unary('Selu', 'Selu'),
  direct('IsNan', 'IsNaN', ['x'], asBool), direct('LogicalNot', 'Not', ['x'], same),
  direct('LeakyRelu', 'LeakyRelu', ['x'], same, (a) => [attr.float('alpha', a.alpha)]),
  composite('Square', (ctx, x) => ctx.node('Mul', [x, x])[0]),
  composite('Rsqrt', (ctx, x) => ctx.node('Reciprocal', ctx.node('Sqrt', [x]))[0]),
  composite('Expm1', (ctx, x) => ctx.node('Sub', [ctx.node('Exp', [x])[0], ctx.scalar(1, 'float32')])[0]),
  composite('Log1p', (ctx, x) => ctx.node('Log', [ctx.node('Add', [x, ctx.scalar(1, 'float32')])[0]])[0]),
  composite('Relu6', (ctx, x) => ctx.node('Clip', [x, ctx.scalar(0, 'float32'), ctx.scalar(6, 'float32')])[0]),
  spec('Step', ['x'], same, (ctx, a) => {
    // 1 where x > 0, alpha elsewhere (NaN included, as TensorFlow's ReluGrad masks with x > 0).
    const positive = ctx.node('Greater', [ctx.inputs[0], ctx.scalar(0, 'float32')])[0];
    if (!a.alpha) ctx.node('Cast', [positive], [attr.int('to', 1)], ctx.outputs);
    else ctx.node('Where', [positive, ctx.scalar(1, 'float32'), ctx.scalar(a.alpha, 'float32')], [], ctx.outputs);
  }),
  spec('ClipByValue', ['x'], same, (ctx, a) =>
    void ctx.node('Clip', [ctx.inputs[0], ctx.scalar(a.clipValueMin, 'float32'), ctx.scalar(a.clipValueMax, 'float32')], [], ctx.outputs)),
  spec('Cast', ['x'], ([x], a) => ({ shape: [...x.shape], dtype: a.dtype }), (ctx, a) => {
    if (a.dtype === 'bool' && ctx.inputMetas[0].dtype !== 'bool')
      ctx.node('Not', [ctx.node('Equal', [ctx.inputs[0], ctx.scalar(0, ctx.inputMetas[0].dtype)])[0]], [], ctx.outputs);
    else ctx.node('Cast', ctx.inputs, [attr.int('to', onnxType(a.dtype))], ctx.outputs);
  }),
  spec('EluGrad', ['dy', 'y'], ([dy]) => same([dy]), (ctx) => {
    const [dy, y] = ctx.inputs;
    const neg = ctx.node('Less', [y, ctx.scalar(0, 'float32')])[0];
    ctx.node('Where', [neg, ctx.node('Mul', [dy, ctx.node('Add', [y, ctx.scalar(1, 'float32')])[0]])[0], dy], [], ctx.outputs);
  }),
  binary('Add', 'Add'), binary('Sub', 'Sub'), binary('Multiply', 'Mul'), binary('RealDiv', 'Div'), binary('Maximum', 'Max'),
  binary('Minimum', 'Min'), binary('Pow', 'Pow'), binary('Equal', 'Equal', true), binary('Greater', 'Greater', true),
  binary('GreaterEqual', 'GreaterOrEqual', true), binary('Less', 'Less', true), binary('LessEqual', 'LessOrEqual', true),
  binary('LogicalAnd', 'And', true), binary('LogicalOr', 'Or', true),
  spec('NotEqual', ['a', 'b'], broadcast('bool'), (ctx) => void ctx.node('Not', ctx.node('Equal', ctx.inputs), [], ctx.outputs)),
  spec('SquaredDifference', ['a', 'b'], broadcast(), (ctx) => {
    const d = ctx.node('Sub', ctx.inputs)[0];
    ctx.node('Mul', [d, d], [], ctx.outputs);
  }),
  spec('FloorDiv', ['a', 'b'], broadcast(), (ctx) => {
    if (ctx.inputMetas[0].dtype !== 'float32') throw new Error('FloorDiv of integers has no lowering');
    ctx.node('Floor', ctx.node('Div', ctx.inputs), [], ctx.outputs);
  }),
  spec('Prelu', ['x', 'alpha'], broadcast(), (ctx) => void ctx.node('PRelu', ctx.inputs, [], ctx.outputs)),
  spec('Select', ['condition', 't', 'e'], ([, t, e]) => broadcast()([t, e]), (ctx) => void ctx.node('Where', ctx.inputs, [], ctx.outputs)),
  spec('AddN', 'list', (ms) => same(ms), (ctx) => void ctx.node('Sum', ctx.inputs, [], ctx.outputs)),
];
