/**
 * The node routes a standalone validator serves beside the market API (plugins/transport-http), so a miner in
 * another process can join with no manual step:
 *
 *   GET  /node           → { role, hotkey, uid, profile_id, collection_seconds, upload_grace_seconds, environments,
 *                            environments_digest, checkpoint: { n, dir, revision } }
 *   POST /node/register  { hotkey, coldkey, signature } → { uid } · 400 { detail }
 *
 * Registration is on the validator's local chain (chain-local lives in its store); the signature is the hotkey's
 * sr25519 signature over ASCII `reliquary-register|<hotkey>|<coldkey>`, so nobody registers a key they do not hold.
 * `nodeInfo` and `registerMiner` are the miner's side (plain `fetch`).
 */
import type { Hono } from 'hono';
import type { EnvironmentSummary } from '../../../core/plugins/environment-set.ts';
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

/** Adds `/node` and `/node/register` to the validator's app. */
export function nodeRoutes(app: Hono<any>, host: () => ValidatorHost): void {
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
    const { hotkey, coldkey, signature } = body ?? {};
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
    const uid = await host().chain.register(hotkey, coldkey);
    return c.json({ uid });
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

/** Registers `signer` under `coldkey` on the validator's local chain; resolves to the uid. */
export async function registerMiner(baseUrl: string, signer: Signer, coldkey: string): Promise<number> {
  const signature = signer.sign(registerMessage(signer.ss58, coldkey));
  const r = await fetchJson(`${baseUrl}/node/register`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ hotkey: signer.ss58, coldkey, signature }),
  });
  const uid = (r.body as { uid?: unknown } | null)?.uid;
  if (r.status !== 200 || typeof uid !== 'number') {
    throw new ConfigError(`registration refused by ${baseUrl}: ${(r.body as { detail?: string } | null)?.detail ?? `HTTP ${r.status}`}`);
  }
  return uid;
}
