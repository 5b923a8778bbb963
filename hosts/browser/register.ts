/**
 * The page's side of the validator's node routes (hosts/node/nodes/node-routes.ts, which the page cannot import: it
 * is Node host code): `GET /node` (the validator hotkey that signs checkpoint manifests) and `POST /node/register`
 * (registers the page's hotkey on the validator's local chain under its coldkey). test/browser/serve.test.ts checks
 * that `nodeRoutes` accepts what `registerPage` sends, so the two cannot drift apart silently.
 */
import type { Signer } from '../../core/protocol/sr25519.ts';

/** What the page reads of `GET /node`. */
export interface ValidatorInfo {
  readonly hotkey: string;
  readonly uid: number;
  readonly profile_id: string;
}

/** The text a hotkey signs to register under `coldkey` (node-routes.ts's format). */
export function registerMessage(hotkey: string, coldkey: string): string {
  return `reliquary-register|${hotkey}|${coldkey}`;
}

/** `GET <base>/node`. */
export async function validatorInfo(base = '', fetchFn: typeof fetch = fetch): Promise<ValidatorInfo> {
  const r = await fetchFn(`${base}/node`, { cache: 'no-store' });
  if (!r.ok) throw new Error(`GET /node answered HTTP ${r.status}: this validator does not serve the node routes`);
  return (await r.json()) as ValidatorInfo;
}

/** Registers `hotkey` under `coldkey`; resolves to its uid, or throws with the validator's reason. */
export async function registerPage(hotkey: Signer, coldkey: string, base = '', fetchFn: typeof fetch = fetch): Promise<number> {
  const r = await fetchFn(`${base}/node/register`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ hotkey: hotkey.ss58, coldkey, signature: hotkey.sign(registerMessage(hotkey.ss58, coldkey)) }),
  });
  const body = (await r.json().catch(() => null)) as { uid?: unknown; detail?: string } | null;
  if (!r.ok || typeof body?.uid !== 'number') throw new Error(`registration refused: ${body?.detail ?? `HTTP ${r.status}`}`);
  return body.uid;
}
