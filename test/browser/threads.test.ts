/**
 * The threaded wasm backend in a real page (headless Chromium, as browser.test.ts launches it): a tiny page served
 * through hosts/browser/serve.ts's own routes (so with its cross-origin-isolation headers) from a loopback server is
 * `crossOriginIsolated`; `pickBackend` (hosts/browser/miner/backend.ts) with `?threads=2` starts kernels-threads.wasm
 * on 2 threads, its helper a Web Worker from `spawnWebKernelThread` (miner/threads.ts); a large matmul and a small
 * transformer-block op sequence (every op split) equal the single-thread kernels.wasm bit for bit in the same page,
 * the page's main thread spinning where it may not Atomics.wait. `?threads=1`, and a worker that cannot be created,
 * give the single-thread backend with the reason in `detail`.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { Hono } from 'hono';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVNET } from '../../core/profile/index.ts';
import { dashboardFeed } from '../../core/validator/dashboard.ts';
import { browserRoutes, type BrowserRoutesHost } from '../../hosts/browser/serve.ts';
import { listen, type Listening } from '../../plugins/transport-http/listen-node.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu-sandbox', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic'];
const have = existsSync(CHROMIUM);
if (!have && process.env['CI'] === 'true') throw new Error(`${CHROMIUM} is missing: run scripts/setup-system.sh (apt-get install chromium); the browser tests never skip in CI`);

/** The page's script: runs everything in the page and returns the bits to compare. */
const PAGE = `
import { f32ToBf16 } from './core/compute/bf16.ts';
import { createWasmBackend } from './kernels/wasm/index.ts';
import { createThreadedWasmBackend } from './kernels/wasm/index.ts';
import { pickBackend } from './hosts/browser/miner/backend.ts';
import { spawnWebKernelThread } from './hosts/browser/miner/threads.ts';
const rnd = (n, seed) => { let s = seed >>> 0; return Float32Array.from({ length: n }, () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 31 - 1); };
const bits = async (be, t) => Array.from(new Uint32Array((await be.download(t)).buffer));
async function matmul(be) {
  const N = 32, C = 256, OC = 512; // 2·N·C·OC over the default split threshold
  const out = be.empty([N, OC]);
  be.matmulForward(out, be.upload(rnd(N * C, 1), [N, C]), be.upload(rnd(OC * C, 2), [OC, C]), 1, N, C, OC);
  return bits(be, out);
}
async function block(be) {
  const B = 2, T = 8, NH = 4, HD = 16, C = NH * HD, F = 96;
  const up = (n, seed, shape) => be.upload(rnd(n, seed), shape);
  const x = up(B * T * C, 3, [B, T, C]), h = be.empty([B, T, C]);
  be.rmsnormForward(h, x, up(C, 4, [C]), B, T, C, 1e-6);
  const [q, k, v] = [5, 6, 7].map((seed) => { const o = be.empty([B, T, NH, HD]); be.matmulForward(o, h, up(C * C, seed, [C, C]), B, T, C, C); return o; });
  const qr = be.empty([B, T, NH, HD]), kr = be.empty([B, T, NH, HD]);
  be.ropeForward(qr, q, B, T, NH, HD, 0, 1e6);
  be.ropeForward(kr, k, B, T, NH, HD, 0, 1e6);
  const att = be.empty([B, T, NH, HD]), o = be.empty([B, T, C]), r = be.empty([B, T, C]);
  be.attentionForward(att, qr, kr, v, B, T, NH, NH, HD, 0, T);
  be.matmulForward(o, att, up(C * C, 8, [C, C]), B, T, C, C);
  be.residualForward(r, x, o, B * T * C);
  const g = be.empty([B, T, F]), u = be.empty([B, T, F]), s = be.empty([B, T, F]), d = be.empty([B, T, C]), y = be.empty([B, T, C]);
  be.matmulForward(g, r, be.upload(f32ToBf16(rnd(F * C, 9)), [F, C]), B, T, C, F); // a bf16 weight
  be.matmulForward(u, r, up(F * C, 10, [F, C]), B, T, C, F);
  be.swigluForward(s, g, u, B * T * F);
  be.matmulForward(d, s, up(C * F, 11, [C, F]), B, T, F, C);
  be.residualForward(y, d, r, B * T * C);
  return bits(be, y);
}
window.__run = async () => {
  const urls = { allowWebGPU: false, wasmUrl: '/assets/kernels.wasm', threadsWasmUrl: '/assets/kernels-threads.wasm' };
  const ready = [];
  const counted = (src) => { const th = spawnWebKernelThread(src); const on = th.onMessage; th.onMessage = (f) => on((m) => { ready.push(m); f(m); }); return th; };
  const one = await createWasmBackend(await (await fetch(urls.wasmUrl)).arrayBuffer());
  const picked = await pickBackend({ ...urls, threadsParam: '2' }, counted);
  const split = await createThreadedWasmBackend(await (await fetch(urls.threadsWasmUrl)).arrayBuffer(), { threads: 2, spawn: counted, minWork: 0 });
  const r = {
    isolated: globalThis.crossOriginIsolated, picked: { kind: picked.kind, threads: picked.threads, detail: picked.detail }, ready,
    matmul: [await matmul(one), await matmul(picked.backend)], block: [await block(one), await block(split), await block(picked.backend)],
  };
  const single = await pickBackend({ ...urls, threadsParam: '1' });
  const refused = await pickBackend({ ...urls, threadsParam: '2' }, () => { throw new Error('worker refused'); });
  r.fallbacks = [single, refused].map((p) => ({ threads: p.threads, detail: p.detail }));
  r.fallbackMatmul = await matmul(refused.backend);
  for (const be of [one, picked.backend, split, single.backend, refused.backend]) be.destroy();
  return r;
};
`;

describe.skipIf(!have)(`threaded wasm backend in headless Chromium${have ? '' : ` (skipped: ${CHROMIUM} missing)`}`, () => {
  let assets: string;
  let server: Listening;
  let browser: Browser;

  beforeAll(async () => {
    const kernels = resolve('kernels/wasm/build');
    execFileSync(process.execPath, ['kernels/wasm/build.mjs'], { stdio: 'ignore' }); // skips when up to date
    assets = await mkdtemp(join(tmpdir(), 'reliquary-threads-page-'));
    for (const f of ['kernels.wasm', 'kernels-threads.wasm']) copyFileSync(join(kernels, f), join(assets, f));
    const js = await build({ stdin: { contents: PAGE, loader: 'ts', resolveDir: resolve('.') }, bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent' });
    await writeFile(join(assets, 'page.js'), js.outputFiles[0]!.contents);
    await writeFile(join(assets, 'miner.html'), '<!doctype html><title>threads</title><script type="module" src="/assets/page.js"></script>');
    const host = { node: {}, chain: { registry: async () => ({ neurons: [] }) }, profile: DEVNET } as unknown as BrowserRoutesHost;
    const app = new Hono();
    browserRoutes({ feed: dashboardFeed(), host: () => host, assetsDir: assets })(app as never);
    server = await listen(app, { port: 0, hostname: '127.0.0.1' });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: false, args: ARGS });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (assets) await rm(assets, { recursive: true, force: true });
  });

  it('runs kernels-threads.wasm on 2 threads (a Web Worker helper) and equals the single-thread kernels bit for bit', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}/miner`);
    await page.waitForFunction(() => typeof (window as unknown as { __run?: unknown }).__run === 'function');
    const r = await page.evaluate(() => (window as unknown as { __run: () => Promise<Record<string, unknown>> }).__run()) as {
      isolated: boolean; picked: { kind: string; threads: number; detail: string }; ready: unknown[];
      matmul: number[][]; block: number[][]; fallbacks: { threads: number; detail: string }[]; fallbackMatmul: number[];
    };
    expect(r.isolated).toBe(true);
    expect(r.picked).toMatchObject({ kind: 'wasm', threads: 2 });
    expect(r.picked.detail).toMatch(/^threaded WASM, 2 threads/);
    expect(r.ready).toEqual([{ ready: true }, { ready: true }]); // one helper each for the picked and the split backend
    expect(r.matmul[0]!.length).toBe(32 * 512);
    expect(r.matmul[1]).toEqual(r.matmul[0]);
    expect(r.block[0]!.length).toBe(2 * 8 * 64);
    expect(r.block[0]!.some((b) => b !== 0)).toBe(true);
    expect(r.block[1]).toEqual(r.block[0]);
    expect(r.block[2]).toEqual(r.block[0]);
    expect(r.fallbacks[0]).toMatchObject({ threads: 1, detail: expect.stringMatching(/^single-thread WASM: \?threads=1/) });
    expect(r.fallbacks[1]).toMatchObject({ threads: 1, detail: expect.stringMatching(/^single-thread WASM: threaded WASM failed to start: worker refused/) });
    expect(r.fallbackMatmul).toEqual(r.matmul[0]);
    expect(errors).toEqual([]);
    await page.close();
  }, 30_000);
});
