import { Graphviz } from '@hpcc-js/wasm-graphviz';

let graphviz: Promise<Graphviz> | undefined;

/** Lays out a DOT graph with Graphviz's `dot` (compiled to WebAssembly: no system Graphviz needed) and returns SVG. */
export async function dotToSvg(dot: string): Promise<string> {
  graphviz ??= Graphviz.load();
  return (await graphviz).dot(dot, 'svg');
}
