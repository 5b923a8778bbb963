/**
 * The browser host in real headless Chromium (issue 14): a devnet validator in process with short windows serves the
 * dashboard (`/`) and the browser miner (`/miner`) from hosts/browser/serve.ts; Chromium (Debian's /usr/bin/chromium
 * through playwright-core, never a downloaded browser) opens both. The dashboard shows its empty state, then a sealed
 * window, then a second one without a reload; the miner page registers its IndexedDB hotkey (`/node/register`), loads
 * the checkpoint over HTTP (checked by core/miner/checkpoint-check.ts: signed manifest, weights hash), generates on WebGPU (SwiftShader) or the WASM fallback and gets a group accepted into the
 * pool. The WASM fallback page (`?backend=wasm&threads=2`) is cross-origin isolated and runs the threaded kernels. Screenshots of both pages and what ran go to test-output/browser/.
 *
 * Chromium is required in CI (CI=true and no /usr/bin/chromium fails loudly); elsewhere its absence skips with the
 * reason in the title. scripts/setup-system.sh installs it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardFeed, type DashboardFeed } from '../../core/validator/dashboard.ts';
import { fastDevnetProfile } from '../../hosts/node/devnet/devnet.ts';
import { startValidator, type ValidatorHost } from '../../hosts/node/devnet/validator-host.ts';
import { browserRoutes } from '../../hosts/browser/serve.ts';
import { nodeRoutes } from '../../hosts/node/nodes/node-routes.ts';
import { envArith } from '../../plugins/env-arith/index.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu-sandbox', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic', '--enable-unsafe-webgpu'];
const OUT = resolve('test-output/browser');
const MODEL = resolve('models/tiny-arith');
const have = existsSync(CHROMIUM);
if (!have && process.env['CI'] === 'true') throw new Error(`${CHROMIUM} is missing: run scripts/setup-system.sh (apt-get install chromium); the browser tests never skip in CI`);

interface MinerStatus {
  phase: string; backend: string; backendDetail: string; hotkey: string; uid: number | null; checkpointN: number | null;
  submitted: number; accepted: number; verdicts: { accepted: boolean; reason: string }[]; error: string | null; log: string[];
}

describe.skipIf(!have)(`browser host in headless Chromium${have ? '' : ` (skipped: ${CHROMIUM} missing; run scripts/setup-system.sh)`}`, () => {
  let dataDir: string;
  let profileDir: string;
  let v: ValidatorHost;
  let feed: DashboardFeed;
  let ctx: BrowserContext;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    execFileSync(process.execPath, ['kernels/wasm/build.mjs'], { stdio: 'ignore' });
    execFileSync(process.execPath, ['hosts/browser/build.mjs'], { stdio: 'ignore' });
    await mkdir(OUT, { recursive: true });
    dataDir = await mkdtemp(join(tmpdir(), 'reliquary-browser-'));
    profileDir = await mkdtemp(join(tmpdir(), 'reliquary-chromium-'));
    feed = dashboardFeed();
    v = await startValidator({
      profile: fastDevnetProfile(8), env: envArith(), dataDir, modelDir: MODEL, port: 0,
      onEvent: (e) => feed.observe(e),
      routes: (app, host) => {
        nodeRoutes(app, host); // GET /node (the manifest's signer), POST /node/register
        browserRoutes({ feed, host })(app);
      },
    });
    ctx = await chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM, headless: false, args: ARGS, viewport: { width: 1440, height: 900 } });
  }, 60_000);

  afterAll(async () => {
    await ctx?.close();
    await v?.close();
    for (const d of [dataDir, profileDir]) if (d) await rm(d, { recursive: true, force: true });
  });

  const watch = (p: Page, name: string): Page => {
    p.on('pageerror', (e) => pageErrors.push(`${name}: ${e.message}`));
    return p;
  };
  const minerStatus = (p: Page): Promise<MinerStatus> => p.evaluate(() => (window as unknown as { __miner: MinerStatus }).__miner);

  it('the dashboard updates live and the browser miner gets a group accepted in a devnet window', async () => {
    const dash = watch(await ctx.newPage(), 'dashboard');
    await dash.goto(`${v.url}/`);
    await expect.poll(() => dash.textContent('#timeline')).toContain('No window has sealed yet');
    await dash.evaluate(() => ((window as unknown as { __sameLoad: number }).__sameLoad = 1));
    await dash.screenshot({ path: join(OUT, 'dashboard-empty.png'), fullPage: true });

    // The WASM fallback path (?backend=wasm): key, registration, checkpoint download + revision check, model upload.
    // Closed before any window opens, so only the page below mines.
    const fallback = watch(await ctx.newPage(), 'miner-wasm');
    await fallback.goto(`${v.url}/miner?backend=wasm&threads=2`);
    await expect.poll(async () => (await minerStatus(fallback)).phase, { timeout: 30_000 }).toMatch(/waiting for a window|failed/);
    const fb = await minerStatus(fallback);
    expect(fb).toMatchObject({ backend: 'wasm', error: null, checkpointN: 0 });
    // served cross-origin isolated (hosts/browser/serve.ts), so the fallback runs kernels-threads.wasm on Web Workers
    expect(await fallback.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
    expect(fb.backendDetail).toMatch(/^threaded WASM, 2 threads/);
    expect(await fallback.textContent('#backend-detail')).toBe(fb.backendDetail);
    await fallback.close();

    const mine = watch(await ctx.newPage(), 'miner');
    await mine.goto(`${v.url}/miner`);
    await expect.poll(async () => (await minerStatus(mine)).phase, { timeout: 30_000 }).toMatch(/waiting for a window|failed/);
    let s = await minerStatus(mine);
    expect(s.error).toBeNull();
    expect(['webgpu', 'wasm']).toContain(s.backend);
    expect(s.uid).not.toBeNull();
    expect(s.checkpointN).toBe(0);

    // The held-out figure of the base checkpoint, then windows until the page miner has a group in the pool (≤ 4).
    feed.heldOut(await v.evalHeldOut());
    const reports = [];
    for (let w = 0; w < 4; w++) {
      reports.push(await v.runWindow());
      await expect.poll(() => dash.getAttribute('body', 'data-sealed'), { timeout: 10_000 }).toBe(String(reports.length));
      s = await minerStatus(mine);
      if (reports.length >= 2 && s.verdicts.some((x) => x.reason === 'accepted')) break;
    }
    s = await minerStatus(mine);
    expect(await dash.evaluate(() => (window as unknown as { __sameLoad?: number }).__sameLoad)).toBe(1); // no reload
    expect(s.submitted).toBeGreaterThanOrEqual(1);
    expect(s.verdicts.some((x) => x.accepted && x.reason === 'accepted')).toBe(true);
    // the dashboard shows the page miner's hotkey with a group in the pool
    const dashJson = await (await fetch(`${v.url}/dashboard.json`)).json() as { miners: { hotkey: string; accepted: number }[]; windows: unknown[] };
    expect(dashJson.miners.find((m) => m.hotkey === s.hotkey)?.accepted).toBeGreaterThanOrEqual(1);
    expect(await dash.locator('#ckpt-chart canvas').count()).toBeGreaterThanOrEqual(1);
    expect(await dash.textContent('#checkpoints')).toMatch(/#0[\s\S]*\d\.\d{3} \(90 problems\)/);

    await dash.screenshot({ path: join(OUT, 'dashboard.png'), fullPage: true });
    await mine.screenshot({ path: join(OUT, 'miner.png'), fullPage: true });
    await writeFile(join(OUT, 'result.json'), JSON.stringify({
      backend: s.backend, backendDetail: s.backendDetail, fallbackChecked: fb.backendDetail, windows: reports.map((r) => ({ window: r.window, status: r.status, pool: r.poolSize, rejects: r.rejects })),
      miner: { hotkey: s.hotkey, submitted: s.submitted, accepted: s.accepted, verdicts: s.verdicts.map((x) => x.reason) }, log: s.log,
    }, null, 2));
    console.log(`browser miner ran on ${s.backend} (${s.backendDetail}); screenshots in ${OUT}`);
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
