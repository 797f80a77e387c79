// Heatmaps on a canvas: one pixel per cell written into an ImageData by hand (heatmap-pixels.ts), then
// scaled up by the browser without smoothing. uPlot draws lines, not grids, and the charting libraries
// with heatmaps (ECharts, Plotly) are megabyte-class bundles that would outweigh the rest of the page
// for two grids; this is ~130 lines, and the labels stay DOM text.

import { viridisHex } from './colors.ts';
import { el, setChildren } from './dom.ts';
import { fmtNum } from './format.ts';
import { heatmapPixels, type ColorScale, type Grid } from './heatmap-pixels.ts';

export class HeatCanvas {
  readonly canvas = el('canvas', { class: 'heat' });
  readonly legend = el('div', { class: 'colorbar' });
  private grid: Grid | null = null;

  constructor(onHover: (cell: { row: number; col: number } | null) => void) {
    this.canvas.addEventListener('mousemove', (e) => onHover(this.cellAt(e)));
    this.canvas.addEventListener('mouseleave', () => onHover(null));
  }

  private cellAt(e: MouseEvent): { row: number; col: number } | null {
    if (!this.grid) return null;
    const r = this.canvas.getBoundingClientRect();
    const col = Math.floor(((e.clientX - r.left) / r.width) * this.grid.cols);
    const row = Math.floor(((e.clientY - r.top) / r.height) * this.grid.rows);
    return row >= 0 && row < this.grid.rows && col >= 0 && col < this.grid.cols ? { row, col } : null;
  }

  draw(grid: Grid, scale: ColorScale, rowHeight: number): void {
    this.grid = grid;
    const c = this.canvas;
    c.width = Math.max(1, grid.cols);
    c.height = Math.max(1, grid.rows);
    c.style.height = `${grid.rows * rowHeight}px`;
    const ctx = c.getContext('2d');
    if (ctx && grid.rows > 0 && grid.cols > 0) {
      const img = new ImageData(grid.cols, grid.rows);
      img.data.set(heatmapPixels(grid, scale));
      ctx.putImageData(img, 0, 0);
    }
    const bar = el('span', { class: 'bar' });
    bar.style.background = `linear-gradient(to right, ${[0, 0.25, 0.5, 0.75, 1].map(viridisHex).join(', ')})`;
    setChildren(this.legend, el('span', { text: fmtNum(scale.min) }), bar, el('span', { text: `${fmtNum(scale.max)}${scale.log ? ' (log scale)' : ''}` }));
  }
}
