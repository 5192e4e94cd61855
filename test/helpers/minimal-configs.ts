import { registerLambda } from '../../src/layers/lambda.js';

/**
 * The smallest Keras config of each layer class that has required fields
 * (classes without any build from `{}`), for tests that go over every class.
 * The Lambda entry names a registered identity function.
 */
registerLambda('identity', (x) => x);

export const minimal: Record<string, Record<string, unknown>> = {
  Activation: { activation: 'relu' },
  Conv2D: { filters: 2, kernel_size: 3 },
  Dense: { units: 2 },
  Dropout: { rate: 0.5 },
  Embedding: { input_dim: 4, output_dim: 2 },
  InputLayer: { batch_input_shape: [null, 3] },
  Reshape: { target_shape: [-1] },
  AlphaDropout: { rate: 0.5 },
  GaussianDropout: { rate: 0.5 },
  GaussianNoise: { stddev: 0.5 },
  SpatialDropout1D: { rate: 0.5 },
  SpatialDropout2D: { rate: 0.5 },
  SpatialDropout3D: { rate: 0.5 },
  Dot: { axes: 1 },
  MultiHeadAttention: { num_heads: 2, key_dim: 2 },
  Lambda: { function: 'identity' },
  Conv1D: { filters: 2, kernel_size: 3 },
  Conv3D: { filters: 2, kernel_size: 3 },
  Conv2DTranspose: { filters: 2, kernel_size: 3 },
  Conv3DTranspose: { filters: 2, kernel_size: 3 },
  SeparableConv1D: { filters: 2, kernel_size: 3 },
  SeparableConv2D: { filters: 2, kernel_size: 3 },
  DepthwiseConv2D: { kernel_size: 3 },
  LocallyConnected1D: { filters: 2, kernel_size: 3 },
  LocallyConnected2D: { filters: 2, kernel_size: 3 },
  RepeatVector: { n: 2 },
  Permute: { dims: [2, 1] },
  SimpleRNN: { units: 2 },
  LSTM: { units: 2 },
  GRU: { units: 2 },
  ConvLSTM2D: { filters: 2, kernel_size: 3 },
  Bidirectional: { layer: { class_name: 'LSTM', config: { units: 2 } } },
  TimeDistributed: { layer: { class_name: 'Dense', config: { units: 2 } } },
  RNN: { cell: [{ class_name: 'LSTMCell', config: { units: 2 } }, { class_name: 'GRUCell', config: { units: 2 } }] },
};
