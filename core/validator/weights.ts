/**
 * The validator's weights step (spec/market.md §6): replay the EMA over the archives of the last `replayWindows`
 * windows (`replayEma`), map it to uids with the chain's `uidMap` (`weightsFromEma`: unpaid and deregistered mass to
 * the burn uid, the validator's own, so the vector sums to 1) and call `chain.setWeights`.
 *
 * Cadence: `'window'` sets weights after every sealed window (the devnet: a chain-local epoch is longer than a whole
 * devnet run, so the once-per-epoch rule would set weights at most once); `'epoch'` applies the mainnet rule
 * (`shouldSubmitWeights`: first boot, then once per epoch id within `leadBlocks` of its end).
 *
 * @example
 *   const line = await submitWeights(chain, profile, archives, { window, burnUid: uid, every: 'window', leadBlocks: 10 }, null);
 */
import { uidMap, type Chain } from '../interfaces/chain.ts';
import { archiveToEma, type WindowArchive } from '../market/archive.ts';
import { replayEma, shouldSubmitWeights, weightsFromEma } from '../market/weights.ts';
import type { Profile } from '../profile/index.ts';
import type { WeightsLine } from './report.ts';

export interface WeightsPolicy {
  readonly window: number;
  readonly burnUid: number;
  readonly every: 'window' | 'epoch';
  readonly leadBlocks: number;
}

/** Sets the weights after `window` when due; null when the epoch rule says not now. */
export async function submitWeights(
  chain: Chain, p: Profile, archives: Iterable<WindowArchive>, w: WeightsPolicy, lastEpoch: number | null,
): Promise<WeightsLine | null> {
  const block = await chain.currentBlock();
  const { submit, epochId } = w.every === 'epoch'
    ? shouldSubmitWeights(lastEpoch, block, await chain.blocksUntilNextEpoch(block), w.leadBlocks)
    : { submit: true, epochId: block + (await chain.blocksUntilNextEpoch(block)) };
  if (!submit) return null;
  const from = w.window - (p.weights.replayWindows - 1);
  const recent = [...archives].filter((a) => a.window_start >= from && a.window_start <= w.window);
  const ema = replayEma(recent.map(archiveToEma), p.weights);
  const snap = await chain.registry();
  const set = weightsFromEma(ema, uidMap(snap), w.burnUid);
  await chain.setWeights(set.uids, set.weights);
  const byUid = new Map(set.uids.map((u, i) => [u, set.weights[i]!] as const));
  const byHotkey: Record<string, number> = {};
  for (const n of [...snap.neurons].sort((a, b) => a.uid - b.uid)) if (n.uid !== w.burnUid && byUid.has(n.uid)) byHotkey[n.hotkey] = byUid.get(n.uid)!;
  return { block, epochId, burnUid: w.burnUid, uids: set.uids, weights: set.weights, byHotkey, burn: byUid.get(w.burnUid) ?? 0, omitted: set.omitted, replayed: recent.length };
}
