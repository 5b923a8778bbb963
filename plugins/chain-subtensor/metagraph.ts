/**
 * The metagraph of one subnet as this plugin reads it: `Keys(netuid, uid) → hotkey`, `Owner(hotkey) → coldkey`,
 * `ValidatorPermit(netuid) → Vec<bool>` (by uid). `decodeMetagraph` turns those raw reads into neurons, pure and
 * defensive: a uid outside u16, a malformed address or a duplicate uid is dropped and counted, never thrown.
 */
import { decodeSs58 } from '../../core/protocol/sr25519.ts';
import type { Neuron } from '../../core/interfaces/chain.ts';

/** A subtensor neuron: the Chain interface's neuron plus its validator permit. */
export interface SubtensorNeuron extends Neuron {
  readonly validatorPermit: boolean;
}

/** What the chain returned, as plain values (SS58 strings, numbers, booleans). */
export interface RawMetagraph {
  /** `[uid, hotkey]` from `Keys(netuid, ·)`. */
  readonly keys: readonly (readonly [unknown, unknown])[];
  /** hotkey → coldkey from `Owner`. */
  readonly owners: ReadonlyMap<string, unknown>;
  /** `ValidatorPermit(netuid)`, indexed by uid. */
  readonly permits: readonly unknown[];
}

/** Neurons sorted by uid, and how many raw entries were dropped as malformed. */
export function decodeMetagraph(raw: RawMetagraph): { neurons: SubtensorNeuron[]; dropped: number } {
  const byUid = new Map<number, SubtensorNeuron>();
  let dropped = 0;
  for (const [uid, hotkey] of raw.keys) {
    const coldkey = typeof hotkey === 'string' ? raw.owners.get(hotkey) : undefined;
    if (typeof uid !== 'number' || !Number.isSafeInteger(uid) || uid < 0 || uid > 65_535 || !isSs58(hotkey) || !isSs58(coldkey) || byUid.has(uid)) {
      dropped++;
      continue;
    }
    byUid.set(uid, Object.freeze({ uid, hotkey, coldkey, validatorPermit: raw.permits[uid] === true }));
  }
  return { neurons: [...byUid.values()].sort((a, b) => a.uid - b.uid), dropped };
}

function isSs58(s: unknown): s is string {
  if (typeof s !== 'string') return false;
  try {
    decodeSs58(s);
    return true;
  } catch {
    return false;
  }
}
