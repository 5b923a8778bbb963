/**
 * The browser host's routes on the validator's own HTTP app (plugins/transport-http `mount`): the dashboard page, the
 * miner page, their bundled assets (hosts/browser/build.mjs → dist/browser, every byte local: no CDN), the dashboard
 * state and the files of the checkpoint miners must load. Node-side wiring only (it reads files); the pages themselves
 * run the same core and plugins as the Node miner. The miner page also needs the node routes of
 * hosts/node/nodes/node-routes.ts (`GET /node` for the validator hotkey the manifest is signed by, `POST /node/register`):
 * mount both.
 *
 *   GET  /                      dashboard.html
 *   GET  /miner                 miner.html
 *   GET  /assets/:file          dist/browser/<file> (js, css, wasm, html)
 *   GET  /dashboard.json        DashboardSnapshot (core/validator/dashboard.ts); the page polls it
 *   GET  /miner/config.json     {profile, env}: the profile the validator runs (profile-json.ts: BigInts tagged)
 *   GET  /checkpoint/files/:f   a file of the current checkpoint (config, weights, tokenizer); the miner checks it
 *                               with core/miner/checkpoint-check.ts (signed manifest, weights hash) before using it
 *
 * The pages and assets are sent cross-origin isolated (ISOLATION_HEADERS: COOP same-origin, COEP require-corp, CORP
 * same-origin), so the miner page may share wasm memory with Web Workers and run the threaded kernels
 * (kernels-threads.wasm; miner/backend.ts). Everything the pages load is same-origin, so nothing else changes for them.
 *
 * @example
 *   const feed = dashboardFeed();
 *   await startValidator({ …, onEvent: (e) => feed.observe(e), routes: (app, host) => {
 *     nodeRoutes(app, host);
 *     browserRoutes({ feed, host })(app);
 *   } });
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';
import type { Profile } from '../../core/profile/index.ts';
import { CONFIG_FILE, GENERATION_CONFIG_FILE, TOKENIZER_FILES, WEIGHTS_FILE, WEIGHTS_INDEX_FILE } from '../../core/model/checkpoint.ts';
import type { DashboardFeed } from '../../core/validator/dashboard.ts';
import type { ObjectStore } from '../../core/interfaces/store.ts';
import { followerRecordsCache, windowOfRecord, type FollowerVerdictRecord } from '../../core/validator/follower.ts';
import type { ValidatorNode } from '../../core/validator/validator-node.ts';
import type { Verdict } from '../../core/protocol/wire.ts';
import type { HttpServerEnv } from '../../plugins/transport-http/index.ts';
import { profileToJson } from './profile-json.ts';

/** The parts of a running validator the routes read: the node (phase, checkpoint, verdicts), the chain, the profile. */
export interface BrowserRoutesHost {
  readonly node: ValidatorNode;
  readonly chain: { registry(): Promise<{ readonly neurons: readonly { readonly hotkey: string }[] }> };
  readonly profile: Profile;
  /** Where follower validators' verdicts on this validator are read (absent: none shown). */
  readonly store?: ObjectStore;
  readonly hotkey?: string;
}

export interface BrowserRoutesOptions {
  readonly feed: DashboardFeed;
  /** The validator, read at request time (a host may mount the routes before it has finished starting). */
  readonly host: () => BrowserRoutesHost;
  /** The environment the miner page mines (default 'arith'). */
  readonly env?: string;
  /** Where the bundle lives (default: dist/browser at the repository root). */
  readonly assetsDir?: string;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8',
  wasm: 'application/wasm', json: 'application/json', map: 'application/json',
};
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const CHECKPOINT_FILES: ReadonlySet<string> = new Set([CONFIG_FILE, GENERATION_CONFIG_FILE, WEIGHTS_FILE, WEIGHTS_INDEX_FILE, ...TOKENIZER_FILES]);

/**
 * dist/browser, found by walking up from this module (sources under vitest, or the CLI bundle in dist/) and then from
 * the working directory, as the wasm loader finds its kernels; `<cwd>/dist/browser` when none is built yet.
 */
export function defaultAssetsDir(): string {
  for (let dir of [dirname(fileURLToPath(import.meta.url)), process.cwd()]) {
    for (;;) {
      const p = join(dir, 'dist', 'browser');
      if (existsSync(join(p, 'dashboard.html'))) return p;
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  return resolve('dist', 'browser');
}

/**
 * Headers that make a page cross-origin isolated (`crossOriginIsolated`: SharedArrayBuffer, shared wasm memory posted
 * to workers): the page opens no cross-origin window into its browsing context group and loads only resources that
 * allow it (CORP), which the bundle's own files do.
 */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

async function fileOr404(path: string, type: string, headers: Readonly<Record<string, string>> = {}): Promise<Response> {
  try {
    const bytes = await readFile(path);
    return new Response(new Uint8Array(bytes), { headers: { 'Content-Type': type, 'Cache-Control': 'no-cache', ...headers } });
  } catch {
    return Response.json({ detail: 'not_found' }, { status: 404 });
  }
}

/** A `mount` for transport-http's `httpServer` (or validator-host's `mount`) adding the routes of the module comment. */
export function browserRoutes(o: BrowserRoutesOptions): (app: Hono<HttpServerEnv>) => void {
  const assets = o.assetsDir ?? defaultAssetsDir();
  const env = o.env ?? 'arith';
  const asset = (name: string): Promise<Response> =>
    fileOr404(join(assets, name), CONTENT_TYPES[name.split('.').pop() ?? ''] ?? 'application/octet-stream', ISOLATION_HEADERS);

  // follower records are read at most every 10 s, whatever the polling rate (one cache per store and leader)
  let followerCache: { store: ObjectStore; hotkey: string; read: () => Promise<FollowerVerdictRecord[]> } | null = null;
  const followerRecords = (store: ObjectStore, hotkey: string): Promise<FollowerVerdictRecord[]> => {
    if (followerCache?.store !== store || followerCache.hotkey !== hotkey) followerCache = { store, hotkey, read: followerRecordsCache(store, hotkey) };
    return followerCache.read();
  };

  return function mountBrowserRoutes(app) {
    app.get('/', () => asset('dashboard.html'));
    app.get('/miner', () => asset('miner.html'));
    app.get('/assets/:file', (c) => {
      const f = c.req.param('file');
      return SAFE_NAME.test(f) ? asset(f) : c.json({ detail: 'not_found' }, 404);
    });

    app.get('/dashboard.json', async (c) => {
      const { node, chain } = o.host();
      const w = node.validator.window;
      const verdicts = new Map<string, readonly Verdict[]>();
      for (const n of (await chain.registry()).neurons) {
        const list = await node.validator.verdicts(n.hotkey, 0);
        if (list.length) verdicts.set(n.hotkey, list);
      }
      const { store, hotkey } = o.host();
      const followers = store && hotkey ? (await followerRecords(store, hotkey)).map((r) => ({ follower: r.follower, window: windowOfRecord(r) })) : [];
      c.header('Cache-Control', 'no-store');
      return c.json(o.feed.snapshot({ live: { phase: w.phase, window: w.windowN }, verdicts, followers }));
    });

    app.get('/miner/config.json', () => new Response(`{"env":${JSON.stringify(env)},"profile":${profileToJson(o.host().profile)}}`, {
      headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
    }));

    app.get('/checkpoint/files/:file', (c) => {
      const f = c.req.param('file');
      if (!CHECKPOINT_FILES.has(f)) return c.json({ detail: 'not_found' }, 404);
      return fileOr404(join(o.host().node.checkpoint.dir, f), 'application/octet-stream');
    });
  };
}
