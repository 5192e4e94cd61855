import { createRequire } from 'node:module';
import path from 'node:path';
import { Resvg } from '@resvg/resvg-js';

const require = createRequire(import.meta.url);
const fontDir = path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
// The DejaVu fonts travel with the package, so a picture's text looks the same on every machine (no system fonts read).
const fonts = {
  loadSystemFonts: false,
  fontFiles: ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSerif.ttf', 'DejaVuSerif-Bold.ttf', 'DejaVuSansMono.ttf'].map((f) => path.join(fontDir, f)),
  defaultFontFamily: 'DejaVu Sans',
  sansSerifFamily: 'DejaVu Sans',
  serifFamily: 'DejaVu Serif',
  monospaceFamily: 'DejaVu Sans Mono',
};

/** Renders SVG to PNG (resvg) on a white background, at the SVG's own size in CSS pixels (96 per inch). */
export function svgToPng(svg: string): Buffer {
  return new Resvg(svg, { background: 'white', font: fonts }).render().asPng();
}
