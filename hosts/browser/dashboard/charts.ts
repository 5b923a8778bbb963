/**
 * The dashboard's charts through uPlot (bundled by esbuild, no CDN): one `LineChart` per panel, rebuilt only when
 * its series change, otherwise fed new data in place (so a live update does not flicker or lose the cursor).
 */
import uPlot from 'uplot';

export interface SeriesSpec {
  readonly label: string;
  readonly color: string;
  /** Draw bars instead of a line with points. */
  readonly bars?: boolean;
  /** Join the points across missing values (e.g. checkpoints without a held-out figure). */
  readonly spanGaps?: boolean;
}

const bars = uPlot.paths.bars!({ size: [0.5, 40] });

/** A uPlot chart in `target`, x = `xLabel`, one y series per spec. */
export class LineChart {
  private plot: uPlot | null = null;
  private key = '';

  constructor(private readonly target: HTMLElement, private readonly xLabel: string, private readonly yLabel: string, private readonly height = 200) {}

  /** Shows `xs` against each series (null = no value); an empty `xs` clears the chart. */
  update(series: readonly SeriesSpec[], xs: readonly number[], ys: readonly (readonly (number | null)[])[]): void {
    // No point yet: no chart (the panel's table carries the empty-state sentence).
    this.target.hidden = xs.length === 0;
    if (xs.length === 0) {
      this.plot?.destroy();
      this.plot = null;
      return;
    }
    const data = [xs, ...ys] as unknown as uPlot.AlignedData;
    const key = series.map((s) => s.label).join('|');
    const width = Math.max(300, this.target.clientWidth || 500);
    if (this.plot && key === this.key) {
      this.plot.setData(data);
      if (Math.abs(this.plot.width - width) > 4) this.plot.setSize({ width, height: this.height });
      return;
    }
    this.plot?.destroy();
    this.key = key;
    this.plot = new uPlot({
      width, height: this.height,
      // Integer x (windows, checkpoints), padded by half a step so a lone point or bar is not on the edge.
      scales: { x: { time: false, range: (_u, min, max) => [Math.floor(min ?? 0) - 0.5, Math.ceil(max ?? 0) + 0.5] } },
      axes: [{ label: this.xLabel, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] }, { label: this.yLabel }],
      series: [
        { label: this.xLabel },
        ...series.map((s) => ({
          label: s.label, stroke: s.color, width: 2, spanGaps: s.spanGaps ?? false,
          ...(s.bars ? { paths: bars, fill: `${s.color}99`, points: { show: false } } : { points: { show: true, size: 6 } }),
        })),
      ],
    }, data, this.target);
  }
}
