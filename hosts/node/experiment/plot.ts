/**
 * SVG plots of the experiment report in Node, with no browser: a Vega-Lite spec (core/experiment/report.ts
 * `curveSpec`) compiled by vega-lite and rendered by a headless vega View (`renderer: 'none'`, `toSVG`).
 *
 * @example
 *   await fs.writeFile('pass-at-1-vs-steps.svg', await renderSvg(curveSpec(result, 'steps')));
 */
import * as vega from 'vega';
import { compile } from 'vega-lite';

/** Renders a Vega-Lite spec to an SVG string. */
export async function renderSvg(spec: Record<string, unknown>): Promise<string> {
  const compiled = compile(spec as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
