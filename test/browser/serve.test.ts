/**
 * The browser host without a browser: the dashboard state (core/validator/dashboard.ts) from window reports, held-out
 * evals and verdicts, and the routes of hosts/browser/serve.ts in process (`app.request`): checkpoint files only by
 * their known names, the tagged profile JSON; and the page's registration (hosts/browser/register.ts) as the node
 * routes (hosts/node/nodes/node-routes.ts) accept it. The pages and assets are sent cross-origin isolated (COOP,
 * COEP, CORP), kernels-threads.wasm as wasm; and the thread count the miner page's WASM fallback asks for
 * (hosts/browser/miner/backend.ts; test/browser/threads.test.ts runs it in Chromium).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterAll, describe, expect, it } from 'vitest';
import { DEVNET } from '../../core/profile/index.ts';
import { signerFromSeed } from '../../core/protocol/sr25519.ts';
import type { Verdict } from '../../core/protocol/wire.ts';
import { dashboardFeed } from '../../core/validator/dashboard.ts';
import type { HeldOutEval, WindowReport } from '../../core/validator/report.ts';
import { wasmThreadCount } from '../../hosts/browser/miner/backend.ts';
import { fromTaggedJson, profileToJson } from '../../hosts/browser/profile-json.ts';
import { registerPage, validatorInfo } from '../../hosts/browser/register.ts';
import { nodeRoutes } from '../../hosts/node/nodes/node-routes.ts';
import type { ValidatorHost } from '../../hosts/node/devnet/validator-host.ts';
import { browserRoutes, type BrowserRoutesHost } from '../../hosts/browser/serve.ts';

const A = signerFromSeed(new Uint8Array(32).fill(1));
const B = signerFromSeed(new Uint8Array(32).fill(2));

function report(window: number, over: Partial<WindowReport> = {}): WindowReport {
  return {
    window, status: 'completed', transitions: [], trigger: 'deadline', poolSize: 2, checkpointRevision: 'ab'.repeat(20), sealRandomness: true,
    winners: [{ hotkey: A.ss58, promptIdx: 3, sigma: 0.5, rank: 0 }], rejects: { out_of_zone: 3 }, payouts: { [A.ss58]: 0.25 }, burned: 0.75,
    train: null, published: { checkpointN: window + 1, revision: `${window}`.padStart(40, 'c'), dir: '/x', window }, seconds: { collect: 8, proof: 1, train: 0.5 },
    archiveKey: 'k', failure: null, resumedAt: null,
    weights: { block: 1, epochId: 0, burnUid: 0, uids: [0, 1], weights: [0.9, 0.1], byHotkey: { [A.ss58]: 0.1 }, burn: 0.9, omitted: 0, replayed: 1 },
    ...over,
  };
}

const WASM_MAGIC = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);

const verdict = (root: string, v: Partial<Verdict>): Verdict => ({ merkle_root: root.repeat(64).slice(0, 64), accepted: true, reason: 'submitted', ts: 1, ...v });

describe('dashboard state', () => {
  it('is empty before the first window seals', () => {
    const s = dashboardFeed().snapshot();
    expect(s).toMatchObject({ windows: [], checkpoints: [], miners: [], weights: null, live: null });
  });

  it('keeps window rows, checkpoints with their held-out figure, per-miner in-zone share and the last weights', () => {
    const feed = dashboardFeed({ keepWindows: 2 });
    for (const w of [0, 1, 2]) feed.observe({ kind: 'window', report: report(w) });
    feed.observe({ kind: 'log', line: 'ignored' });
    const evalOf = (checkpointN: number, passAt1: number): HeldOutEval => ({ problems: 90, correct: Math.round(passAt1 * 90), passAt1, trainStep: checkpointN, checkpointN, seconds: 1 });
    feed.heldOut(evalOf(0, 0.4));
    feed.heldOut(evalOf(3, 0.5));
    const verdicts = new Map<string, Verdict[]>([
      [A.ss58, [verdict('a', {}), verdict('a', { reason: 'accepted', accepted_into_pool: true }), verdict('b', {}), verdict('b', { accepted: false, reason: 'out_of_zone', accepted_into_pool: false })]],
      [B.ss58, [verdict('c', { accepted: false, reason: 'out_of_zone' })]],
    ]);
    const s = feed.snapshot({ live: { phase: 'open', window: 3 }, verdicts });
    expect(s.windows.map((w) => w.window)).toEqual([1, 2]);
    expect(s.windows[0]).toMatchObject({ accepted: 2, submitted: 5, winners: 1, rejects: { out_of_zone: 3 }, published: { checkpointN: 2 } });
    expect(s.checkpoints.map((c) => [c.checkpointN, c.passAt1])).toEqual([[0, 0.4], [2, null], [3, 0.5]]);
    expect(s.checkpoints[2]!.revision).toBe('2'.padStart(40, 'c'));
    const a = s.miners.find((m) => m.hotkey === A.ss58)!;
    expect(a).toMatchObject({ submitted: 2, accepted: 1, inZoneShare: 0.5, won: 2, weight: 0.1 });
    expect(a.earned).toBeCloseTo(0.5, 12);
    expect(s.miners.find((m) => m.hotkey === B.ss58)).toMatchObject({ submitted: 1, accepted: 0, inZoneShare: 0, won: 0, earned: 0 });
    expect(s.weights).toEqual({ window: 2, byHotkey: { [A.ss58]: 0.1 }, burn: 0.9 });
    expect(s.live).toEqual({ phase: 'open', window: 3 });
  });
});

describe('browser routes', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  async function app() {
    const ckpt = await mkdtemp(join(tmpdir(), 'reliquary-serve-'));
    const assets = await mkdtemp(join(tmpdir(), 'reliquary-assets-'));
    dirs.push(ckpt, assets);
    await writeFile(join(ckpt, 'config.json'), '{"x":1}');
    await writeFile(join(ckpt, 'secret.bin'), 'no');
    await writeFile(join(assets, 'dashboard.html'), '<!doctype html><title>d</title>');
    await writeFile(join(assets, 'miner.html'), '<!doctype html><title>m</title>');
    await writeFile(join(assets, 'kernels-threads.wasm'), WASM_MAGIC);
    const host: BrowserRoutesHost = {
      node: { checkpoint: { dir: ckpt }, validator: { window: { phase: 'ready', windowN: 0 }, verdicts: () => [] } } as unknown as BrowserRoutesHost['node'],
      chain: { registry: async () => ({ neurons: [] }) },
      profile: DEVNET,
    };
    const a = new Hono();
    browserRoutes({ feed: dashboardFeed(), host: () => host, assetsDir: assets })(a as never);
    return a;
  }

  it('serves the pages, the dashboard state and only the checkpoint files a miner needs', async () => {
    const a = await app();
    expect(await (await a.request('/')).text()).toContain('<!doctype html>');
    expect((await a.request('/')).headers.get('content-type')).toContain('text/html');
    expect((await a.request('/assets/missing.js')).status).toBe(404);
    expect((await a.request('/assets/..%2Fsecret')).status).toBe(404);
    expect(await (await a.request('/checkpoint/files/config.json')).text()).toBe('{"x":1}');
    expect((await a.request('/checkpoint/files/secret.bin')).status).toBe(404);
    const d = await (await a.request('/dashboard.json')).json();
    expect(d).toMatchObject({ windows: [], live: { phase: 'ready', window: 0 } });
  });

  it('sends the pages and assets cross-origin isolated, kernels-threads.wasm as wasm', async () => {
    const a = await app();
    for (const path of ['/', '/miner', '/assets/kernels-threads.wasm']) {
      const res = await a.request(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('cross-origin-opener-policy'), path).toBe('same-origin');
      expect(res.headers.get('cross-origin-embedder-policy'), path).toBe('require-corp');
      expect(res.headers.get('cross-origin-resource-policy'), path).toBe('same-origin');
    }
    const wasm = await a.request('/assets/kernels-threads.wasm');
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    expect(new Uint8Array(await wasm.arrayBuffer())).toEqual(WASM_MAGIC);
    expect((await a.request('/miner')).headers.get('content-type')).toContain('text/html');
    // the JSON the pages fetch is same-origin: it needs no CORP, and is sent as before
    expect((await a.request('/dashboard.json')).status).toBe(200);
  });

  it('registers the page\'s hotkey through the node routes, which refuse a signature by another key', async () => {
    const registered: [string, string][] = [];
    const host = {
      hotkey: B.ss58, uid: 0, profile: DEVNET, environments: { summary: [], digest: '' },
      node: { checkpoint: { checkpointN: 0, dir: '/x', revision: 'r' } },
      validator: { window: { phase: 'ready', windowN: 0 } }, // /node/register answers the first window that admits it
      chain: { register: async (h: string, c: string) => registered.push([h, c]) },
    } as unknown as ValidatorHost;
    const a = new Hono();
    nodeRoutes(a, () => host);
    const fetchIn = ((url: string, init?: RequestInit) => a.request(url, init)) as unknown as typeof fetch;
    expect((await validatorInfo('', fetchIn)).hotkey).toBe(B.ss58);
    expect(await registerPage(A, B.ss58, '', fetchIn)).toBe(1);
    expect(registered).toEqual([[A.ss58, B.ss58]]);
    const forged = { ...A, sign: B.sign };
    await expect(registerPage(forged, B.ss58, '', fetchIn)).rejects.toThrow(/registration refused/);
  });

  it('sends the profile with its BigInts tagged, and the page gets the same profile back', async () => {
    const a = await app();
    const text = await (await a.request('/miner/config.json')).text();
    const back = fromTaggedJson<{ env: string; profile: typeof DEVNET }>(text);
    expect(back.env).toBe('arith');
    expect(profileToJson(back.profile)).toBe(profileToJson(DEVNET));
    expect(back.profile).toEqual(DEVNET);
  });
});

describe('the miner page\'s wasm thread count', () => {
  it('is min(hardwareConcurrency, 8) unless ?threads= says otherwise; a malformed value is ignored and said so', () => {
    expect(wasmThreadCount(null, 4)).toEqual({ threads: 4, why: 'navigator.hardwareConcurrency is 4' });
    expect(wasmThreadCount(null, 32).threads).toBe(8);
    expect(wasmThreadCount(undefined, 1)).toEqual({ threads: 1, why: 'navigator.hardwareConcurrency is 1' });
    expect(wasmThreadCount(null, undefined).threads).toBe(1);
    expect(wasmThreadCount('1', 16)).toEqual({ threads: 1, why: '?threads=1' });
    expect(wasmThreadCount('12', 2).threads).toBe(12);
    for (const bad of ['0', '-2', 'abc', '2.5', '65', '1e3']) {
      expect(wasmThreadCount(bad, 2), bad).toMatchObject({ threads: 2, note: expect.stringContaining('ignored') });
    }
  });
});
