export { TensorBoard, type TensorBoardOptions } from './tensorboard.js';
