/**
 * Fair share of an environment's receipts and reserved bytes among registered operators (profile knob
 * `admission.fairShare`; issue 11: admission that cannot be squatted).
 *
 * The unit is the operator: the coldkey of the window's registry snapshot (`operatorMap`), so four hotkeys of one
 * coldkey share one allowance; a hotkey without a unique coldkey is its own unit. A unit is *served* in an env
 * once it holds a receipt there that was not released (core/market/book.ts `releaseExpired`). With `free` the
 * receipts the env can still issue and `U` the registered units other than the requester that are not served:
 *   - a unit's first receipt is limited only by the env caps (it is one of the units the reserve is kept for);
 *   - a further receipt needs `free − 1 ≥ U` (one receipt stays reserved for every unserved unit) and
 *     `held + 1 ≤ ceil((free + held) / (U + 1))` (at most its share of what is left to it and the unserved);
 *   - its reserved bytes likewise stay within `max(maxRevealBytes, ceil((freeBytes + heldBytes) / (U + 1)))`.
 * Hence, while the env's receipt cap is at least the number of registered units, a registered miner who has no
 * receipt always gets one unless the window itself refuses (closed, expired, prompt full), whatever other
 * operators did. As units are served, `U` shrinks and the shares grow back to the plain caps. A refusal is
 * RATE_LIMITED: the requester's own allowance is used up, and it names the share and what it is waiting for.
 *
 * @example
 *   const r = fairShareGate(book, profile, byteBudget, request);
 *   if (r) return signed(r); // RATE_LIMITED
 */
import type { Profile } from '../profile/index.ts';
import { Reason, reject, type Rejection } from '../protocol/reasons.ts';
import { maxRevealBytes } from '../protocol/reveal-body.ts';
import type { SubmissionPrecommitRequest } from '../protocol/wire.ts';
import type { AdmissionBook } from './book.ts';

/** Receipts and bytes a unit holds in one env (issued, not released). */
export interface Holding {
  receipts: number;
  bytes: number;
}

/** The fair-share unit of `hotkey`: its coldkey, or the hotkey itself when it has no unique coldkey. */
export function shareUnit(book: AdmissionBook, hotkey: string): string {
  const op = book.ctx.operators.get(hotkey);
  return op === undefined ? `hotkey:${hotkey}` : `coldkey:${op}`;
}

/** Holdings per unit in `env`: every receipt issued there and not released. */
export function holdings(book: AdmissionBook, env: string): Map<string, Holding> {
  const out = new Map<string, Holding>();
  for (const r of book.receipts.values()) {
    if (r.env !== env || book.released.has(r.id)) continue;
    const u = shareUnit(book, r.hotkey);
    const h = out.get(u) ?? { receipts: 0, bytes: 0 };
    h.receipts++;
    h.bytes += r.request.payload_bytes;
    out.set(u, h);
  }
  return out;
}

/** RATE_LIMITED when a further receipt would eat into the reserve of unserved registered units, else null. */
export function fairShareGate(book: AdmissionBook, p: Profile, byteBudgetPerEnv: number, req: SubmissionPrecommitRequest): Rejection | null {
  if (!p.admission.fairShare) return null;
  const env = req.environment;
  const held = holdings(book, env);
  const me = shareUnit(book, req.miner_hotkey);
  const mine = held.get(me) ?? { receipts: 0, bytes: 0 };
  if (mine.receipts === 0) return null;
  const units = new Set((book.ctx.registry?.neurons ?? []).map((n) => shareUnit(book, n.hotkey)));
  units.delete(me);
  let unserved = 0;
  for (const u of units) if ((held.get(u)?.receipts ?? 0) === 0) unserved++;
  const free = p.quotas.receiptsPerEnv - (book.receiptsPerEnv.get(env) ?? 0);
  const share = Math.ceil((free + mine.receipts) / (unserved + 1));
  const who = me.startsWith('coldkey:') ? `operator ${me.slice(8)}` : `hotkey ${req.miner_hotkey}`;
  const wait = `retry once other registered miners are served or your unrevealed receipts expire`;
  if (free - 1 < unserved || mine.receipts + 1 > share) {
    return reject(Reason.RATE_LIMITED, `${who} holds ${mine.receipts} receipts in ${env}; its fair share is ${Math.max(1, Math.min(share, free - unserved + mine.receipts))} while ${unserved} registered operators hold none (${free} left); ${wait}`);
  }
  const freeBytes = byteBudgetPerEnv - (book.bytesPerEnv.get(env) ?? 0);
  const byteShare = Math.max(maxRevealBytes(p), Math.ceil((freeBytes + mine.bytes) / (unserved + 1)));
  if (mine.bytes + req.payload_bytes > byteShare) {
    return reject(Reason.RATE_LIMITED, `${who} reserves ${mine.bytes} + ${req.payload_bytes} bytes in ${env}; its fair share is ${byteShare} while ${unserved} registered operators hold none; ${wait}`);
  }
  return null;
}
