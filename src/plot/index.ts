/**
 * Pictures, as Keras's `plot_model` and the usual training-curve plot:
 * Graphviz (WebAssembly) lays out models, Vega-Lite draws histories, resvg
 * renders PNG with fonts shipped in the package.
 */
export { plotModel } from './plot-model.js';
export { modelToDot, type PlotModelOptions } from './model-to-dot.js';
export { plotHistory, historySvg, type PlotHistoryOptions, type HistoryLike } from './plot-history.js';
