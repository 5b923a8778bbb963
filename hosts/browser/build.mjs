// Bundles the browser host into dist/browser (everything the pages load, nothing from a CDN):
//   dashboard.js + dashboard.css   hosts/browser/dashboard (uPlot and its stylesheet bundled in)
//   miner.js                       hosts/browser/miner (core/miner, env-arith, transport-http client, kernels)
//   kernels.wasm                   the single-thread wasm kernels (the fallback when WebGPU has no adapter)
//   kernels-threads.wasm           the same kernels over shared memory: the threaded fallback on a cross-origin-isolated page
//   dashboard.html, miner.html, style.css
// Needs kernels/wasm/build/kernels.wasm and kernels-threads.wasm (node kernels/wasm/build.mjs). Usage: node hosts/browser/build.mjs [outDir]
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const out = resolve(process.argv[2] ?? join(root, 'dist', 'browser'));
mkdirSync(out, { recursive: true });

await build({
  entryPoints: { dashboard: join(here, 'dashboard', 'main.ts'), miner: join(here, 'miner', 'main.ts') },
  outdir: out,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  sourcemap: true,
  minify: false,
  logLevel: 'warning',
  loader: { '.css': 'css' },
});
// uPlot's stylesheet (tooltips, legend) next to the dashboard bundle.
copyFileSync(join(root, 'node_modules', 'uplot', 'dist', 'uPlot.min.css'), join(out, 'dashboard.css'));
for (const f of ['dashboard.html', 'miner.html', 'style.css']) copyFileSync(join(here, 'pages', f), join(out, f));
for (const f of ['kernels.wasm', 'kernels-threads.wasm']) {
  const wasm = join(root, 'kernels', 'wasm', 'build', f);
  if (!existsSync(wasm)) throw new Error(`${wasm} missing: run \`node kernels/wasm/build.mjs\` first`);
  copyFileSync(wasm, join(out, f));
}
console.log(`browser bundle: ${out}`);
