/**
 * The node routes a standalone validator serves beside the market API (plugins/transport-http), so a miner in
 * another process can join with no manual step:
 *
 *   GET  /node           → { role, hotkey, uid, profile_id, collection_seconds, upload_grace_seconds, environments,
 *                            environments_digest, checkpoint: { n, dir, revision } }
 *   POST /node/register  { hotkey, coldkey, signature, name? } → { uid, effective_window } · 400 { detail }
 *   GET  /node/archives?since=W&keep=K → { archives: [signed window archives, window > W, the newest K, oldest first] }
 *   GET  /node/beacon    → the beacon round the open window's randomness came from (`WindowBeaconProof` of
 *                          plugins/beacon-drand: round, signature, the beacon's chain info) · 404 when no window is open
 *
 * Registration is on the validator's local chain (chain-local lives in its store); the signature is the hotkey's
 * sr25519 signature over ASCII `reliquary-register|<hotkey>|<coldkey>`, so nobody registers a key they do not hold.
 * A window admits the hotkeys of the registry snapshot taken when it opened, so a registration made while window N
 * is open counts from `effective_window` N + 1 (N itself when no window is open).
 * The optional `name` (a label for the logs, unsigned) and every registration of this process are kept in the
 * `NodeRegistrations` passed in. Archives are served as stored: the miner checks each signature itself
 * (`fetchArchives`), and verifies the beacon round (BLS) itself (`fetchWindowBeacon` + `verifyWindowBeacon`).
 * `nodeInfo`, `registerMiner`, `fetchArchives` and `fetchWindowBeacon` are the miner's side (plain `fetch`).
 */
import type { Hono } from 'hono';
import type { ObjectStore } from '../../../core/interfaces/store.ts';
import { archiveKey, verifyArchive, type WindowArchive } from '../../../core/market/archive.ts';
import type { EnvironmentSummary } from '../../../core/plugins/environment-set.ts';
import { windowBeaconProof, type WindowBeaconProof } from '../../../plugins/beacon-drand/index.ts';
import { utf8 } from '../../../core/protocol/codec.ts';
import { decodeSs58, verifySignature, type Signer } from '../../../core/protocol/sr25519.ts';
import type { ValidatorHost } from '../devnet/validator-host.ts';
import { ConfigError } from './config.ts';

export interface NodeInfo {
  readonly role: 'validator';
  readonly hotkey: string;
  readonly uid: number;
  readonly profile_id: string;
  readonly collection_seconds: number;
  readonly upload_grace_seconds: number;
  readonly environments: readonly EnvironmentSummary[];
  readonly environments_digest: string;
  readonly checkpoint: { readonly n: number; readonly dir: string; readonly revision: string };
}

const registerMessage = (hotkey: string, coldkey: string): Uint8Array => utf8(`reliquary-register|${hotkey}|${coldkey}`);

/** Miners that registered with this process: hotkey → name (the name they gave, else a short hotkey). */
export type NodeRegistrations = Map<string, string>;

const NAME_RE = /^[\w.@-]{1,32}$/;

/** The newest `keep` archive keys of `hotkey` in `store` with window > `since`, oldest first. */
export async function newestArchiveKeys(store: ObjectStore, hotkey: string, keep: number, since = -1): Promise<{ key: string; window: number }[]> {
  const prefix = archiveKey(hotkey, 0).replace(/window-0\.json$/, '');
  return (await store.list(prefix))
    .map((key) => ({ key, window: Number(/window-(\d+)\.json$/.exec(key)?.[1]) }))
    .filter((x) => Number.isSafeInteger(x.window) && x.window > since)
    .sort((a, b) => a.window - b.window)
    .slice(-keep);
}

/** Adds the node routes (see the module comment) to the validator's app. */
export function nodeRoutes(app: Hono<any>, host: () => ValidatorHost, registrations: NodeRegistrations = new Map()): void {
  app.get('/node', (c) => {
    const h = host();
    const ck = h.node.checkpoint;
    const info: NodeInfo = {
      role: 'validator', hotkey: h.hotkey, uid: h.uid, profile_id: h.profile.id,
      collection_seconds: h.profile.window.collectionSeconds, upload_grace_seconds: h.profile.window.uploadGraceSeconds,
      environments: h.environments.summary, environments_digest: h.environments.digest,
      checkpoint: { n: ck.checkpointN, dir: ck.dir, revision: ck.revision },
    };
    return c.json(info);
  });
  app.post('/node/register', async (c) => {
    let body: { hotkey?: unknown; coldkey?: unknown; signature?: unknown };
    try {
      body = (await c.req.json()) as typeof body;
    } catch {
      return c.json({ detail: 'body must be JSON { hotkey, coldkey, signature }' }, 400);
    }
    const { hotkey, coldkey, signature, name } = (body ?? {}) as typeof body & { name?: unknown };
    if (typeof hotkey !== 'string' || typeof coldkey !== 'string' || typeof signature !== 'string') {
      return c.json({ detail: 'body must be JSON { hotkey, coldkey, signature } (strings)' }, 400);
    }
    try {
      decodeSs58(hotkey);
      decodeSs58(coldkey);
    } catch {
      return c.json({ detail: 'hotkey and coldkey must be SS58 addresses' }, 400);
    }
    if (!verifySignature(registerMessage(hotkey, coldkey), signature, hotkey)) {
      return c.json({ detail: 'signature is not the hotkey\'s over "reliquary-register|<hotkey>|<coldkey>"' }, 400);
    }
    if (name !== undefined && (typeof name !== 'string' || !NAME_RE.test(name))) {
      return c.json({ detail: 'name must be 1 to 32 characters: letters, digits, _ . @ -' }, 400);
    }
    const h = host();
    const uid = await h.chain.register(hotkey, coldkey);
    registrations.set(hotkey, typeof name === 'string' ? name : `${hotkey.slice(0, 8)}…`);
    const w = h.validator.window;
    return c.json({ uid, effective_window: w.phase === 'ready' ? w.windowN : w.windowN + 1 });
  });
  app.get('/node/archives', async (c) => {
    const h = host();
    const since = Number(c.req.query('since') ?? -1);
    const keep = Math.min(64, Math.max(1, Number(c.req.query('keep') ?? 8) || 8));
    const out: unknown[] = [];
    for (const { key } of await newestArchiveKeys(h.store, h.hotkey, keep, Number.isSafeInteger(since) ? since : -1)) {
      const bytes = await h.store.get(key);
      if (bytes) out.push(JSON.parse(new TextDecoder().decode(bytes)));
    }
    return c.json({ archives: out });
  });
  // The proof of the open window's randomness; cached per round (a drand beacon is fetched from its relays again).
  const proofs = new Map<number, Promise<WindowBeaconProof>>();
  app.get('/node/beacon', async (c) => {
    const h = host();
    const w = h.validator.window;
    if (w.phase !== 'open' || w.openRound === null) return c.json({ detail: `window ${w.windowN} is not open` }, 404);
    let p = proofs.get(w.openRound);
    if (!p) {
      if (proofs.size > 16) proofs.clear();
      proofs.set(w.openRound, (p = windowBeaconProof(h.beacon, w.openRound)));
      p.catch(() => proofs.delete(w.openRound!));
    }
    try {
      return c.json({ ...(await p), window_n: w.windowN });
    } catch (e) {
      return c.json({ detail: `beacon round ${w.openRound}: ${e instanceof Error ? e.message : String(e)}` }, 503);
    }
  });
}

async function fetchJson(url: string, init?: RequestInit): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    /* not JSON */
  }
  return { status: res.status, body };
}

/** `GET /node`, retried until the validator answers or `waitSeconds` pass. */
export async function nodeInfo(baseUrl: string, waitSeconds = 60): Promise<NodeInfo> {
  const until = Date.now() + waitSeconds * 1000;
  let last = '';
  for (;;) {
    try {
      const r = await fetchJson(`${baseUrl}/node`);
      if (r.status === 200 && typeof r.body === 'object' && r.body !== null && (r.body as NodeInfo).role === 'validator') return r.body as NodeInfo;
      last = `GET /node answered HTTP ${r.status}; is ${baseUrl} a reliquary validator (reliquary validator)?`;
      if (r.status === 404) throw new ConfigError(last);
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      last = `cannot reach ${baseUrl} (${e instanceof Error ? ((e.cause as Error | undefined)?.message ?? e.message) : String(e)})`;
    }
    if (Date.now() >= until) throw new ConfigError(`--validator ${baseUrl}: ${last}; start it with \`reliquary validator\` or check the URL`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Registers `signer` under `coldkey` on the validator's local chain (with a `name` for its logs); resolves to the uid
 * and the first window that admits it.
 */
export async function registerMiner(baseUrl: string, signer: Signer, coldkey: string, name?: string): Promise<{ uid: number; effectiveWindow: number }> {
  const signature = signer.sign(registerMessage(signer.ss58, coldkey));
  const r = await fetchJson(`${baseUrl}/node/register`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ hotkey: signer.ss58, coldkey, signature, ...(name !== undefined && NAME_RE.test(name) && { name }) }),
  });
  const { uid, effective_window: effective } = (r.body ?? {}) as { uid?: unknown; effective_window?: unknown };
  if (r.status !== 200 || typeof uid !== 'number') {
    throw new ConfigError(`registration refused by ${baseUrl}: ${(r.body as { detail?: string } | null)?.detail ?? `HTTP ${r.status}`}`);
  }
  return { uid, effectiveWindow: typeof effective === 'number' ? effective : 0 };
}

/**
 * The validator's signed archives over HTTP as the selector's feed: each one verified against `validatorHotkey`
 * (an unsigned or foreign one is dropped), the newest `keep`, oldest first; only windows not yet held are fetched.
 */
export function fetchArchives(baseUrl: string, validatorHotkey: string, keep = 8): () => Promise<readonly WindowArchive[]> {
  let held: WindowArchive[] = [];
  return async () => {
    const since = held.length ? held[held.length - 1]!.window_start : -1;
    const r = await fetchJson(`${baseUrl}/node/archives?since=${since}&keep=${keep}`);
    const got = (r.body as { archives?: unknown } | null)?.archives;
    if (r.status !== 200 || !Array.isArray(got)) throw new Error(`GET /node/archives answered HTTP ${r.status}`);
    const fresh = got.filter((a): a is WindowArchive => verifyArchive(a, validatorHotkey).ok);
    held = [...held, ...fresh].sort((a, b) => a.window_start - b.window_start).slice(-keep);
    return held;
  };
}

/** `GET /node/beacon`: the proof of the open window's randomness (null: no window open, or none served). */
export async function fetchWindowBeacon(baseUrl: string): Promise<{ status: number; body: unknown }> {
  return fetchJson(`${baseUrl}/node/beacon`);
}
