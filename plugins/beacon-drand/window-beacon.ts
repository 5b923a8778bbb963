/**
 * The window's beacon, checked by the miner (issue 12, item 6): a validator opens window N on beacon round R and
 * serves `randomness = windowRandomness(sha256(signature_R), R)` at `/state`. A miner that copies that value on trust
 * mines on whatever the validator chose; with the round's number and signature (`WindowBeaconProof`, served at
 * `/node/beacon`) it checks, before mining, that
 *
 *   1. the beacon is the chain it expects: a `drand-quicknet` beacon must describe the miner's own quicknet chain
 *      (hash, public key, period, genesis) and is verified under the miner's key, never the served one;
 *      any other beacon (the devnet's `beacon-local`, a quicknet-format chain with the validator's own key) is verified
 *      under the key it serves — a consistency check, not trust;
 *   2. the round's BLS signature verifies (`verifyQuicknetBeacon`);
 *   3. the window randomness at `/state` is the one derived from that round;
 *   4. (drand-quicknet, given the miner's clock) the round is fresh: published at most `maxAgeSeconds` ago. A valid
 *      signature proves the round is drand's, not that it is the latest: without this check a validator could pick,
 *      among the thousands of past rounds, the one whose randomness suits it (grinding the forced-seed stream and the
 *      sketch challenge). A round ahead of the clock by more than a period means the miner's clock is wrong.
 *
 * A failure names its `BeaconErrorReason` (`malformed`, `wrong_chain`, `bad_signature`, `randomness_mismatch`,
 * `stale`) and a line a person can act on; the miner skips that window.
 *
 * @example
 *   const proof = windowBeaconProof(drand, 1000);                 // validator side
 *   verifyWindowBeacon(proof, { window: 3, randomness }, profile.drand); // miner side → { ok: true, round: 1000 }
 */
import { BeaconError, type Beacon, type BeaconErrorReason } from '../../core/interfaces/beacon.ts';
import type { Profile } from '../../core/profile/index.ts';
import { drandRoundTime, windowRandomness } from '../../core/protocol/randomness.ts';
import { verifyQuicknetBeacon } from './verify.ts';

/** The scheme every quicknet-format beacon uses (drand's name for it). */
export const QUICKNET_SCHEME = 'bls-unchained-g1-rfc9380';

/** A beacon that can say which chain it follows (`drandQuicknet` and `beaconLocal` both do). */
export type ChainBeacon = Beacon & { readonly chain: Profile['drand'] };

/** What `/node/beacon` serves: the round the open window's randomness came from, and the beacon's chain. */
export interface WindowBeaconProof {
  readonly window_n?: number;
  /** The beacon plugin's name: `drand-quicknet`, `beacon-local`, … */
  readonly beacon: string;
  readonly round: number;
  readonly signature: string;
  /** drand's `/info` fields. */
  readonly chain: { readonly hash: string; readonly public_key: string; readonly period: number; readonly genesis_time: number; readonly scheme: string };
}

export type WindowBeaconCheck =
  | { readonly ok: true; readonly round: number; readonly beacon: string }
  | { readonly ok: false; readonly reason: BeaconErrorReason; readonly message: string };

const hasChain = (b: Beacon): b is ChainBeacon => typeof (b as Partial<ChainBeacon>).chain?.publicKey === 'string';

/** The proof of round `round` of `beacon` (validator side; the beacon verifies what it returns). */
export async function windowBeaconProof(beacon: Beacon, round: number): Promise<WindowBeaconProof> {
  if (!hasChain(beacon)) throw new BeaconError('wrong_chain', `beacon ${beacon.name} does not describe its chain; miners cannot verify it`);
  const b = await beacon.round(round);
  const c = beacon.chain;
  return {
    beacon: beacon.name, round: b.round, signature: b.signature,
    chain: { hash: c.chainHash.toLowerCase(), public_key: c.publicKey.toLowerCase(), period: c.periodSeconds, genesis_time: c.genesisTime, scheme: QUICKNET_SCHEME },
  };
}

/**
 * Checks `proof` against the window the miner is about to mine (`expected`: its number and `/state` randomness),
 * with `trusted` the miner's own quicknet chain (its profile's `drand`). See the module comment for the order.
 */
export function verifyWindowBeacon(
  proof: unknown, expected: { readonly window: number; readonly randomness: string }, trusted: Profile['drand'], freshness?: BeaconFreshness,
): WindowBeaconCheck {
  const fail = (reason: BeaconErrorReason, message: string): WindowBeaconCheck => ({ ok: false, reason, message: `window ${expected.window}: ${message}` });
  const p = proof as Partial<WindowBeaconProof> | null;
  const c = p?.chain;
  if (typeof p !== 'object' || p === null || typeof p.beacon !== 'string' || typeof c !== 'object' || c === null || typeof c.public_key !== 'string') {
    return fail('malformed', 'the validator\'s beacon proof is not { beacon, round, signature, chain: { hash, public_key, period, genesis_time } }');
  }
  if (c.scheme !== undefined && c.scheme !== QUICKNET_SCHEME) return fail('wrong_chain', `beacon scheme ${JSON.stringify(c.scheme)}, expected ${QUICKNET_SCHEME}`);
  let key: Profile['drand'];
  if (p.beacon === 'drand-quicknet') {
    const mine = { hash: trusted.chainHash.toLowerCase(), public_key: trusted.publicKey.toLowerCase(), period: trusted.periodSeconds, genesis_time: trusted.genesisTime };
    for (const [k, want] of Object.entries(mine)) {
      const got = (c as Record<string, unknown>)[k];
      if ((typeof got === 'string' ? got.toLowerCase() : got) !== want) {
        return fail('wrong_chain', `the validator's drand beacon follows another chain (${k} ${JSON.stringify(got)}, this miner's quicknet has ${JSON.stringify(want)}); refusing its randomness`);
      }
    }
    key = trusted;
  } else {
    key = { chainHash: String(c.hash), publicKey: c.public_key, periodSeconds: Number(c.period), genesisTime: Number(c.genesis_time), dst: trusted.dst };
  }
  let randomness: string;
  try {
    randomness = verifyQuicknetBeacon({ round: p.round as number, signature: p.signature as string }, key).randomness;
  } catch (e) {
    if (e instanceof BeaconError) return fail(e.reason, `${p.beacon} ${e.message}`);
    throw e;
  }
  if (windowRandomness(randomness, p.round as number) !== expected.randomness.toLowerCase()) {
    return fail('randomness_mismatch', `the randomness at /state is not derived from ${p.beacon} round ${p.round} (windowRandomness(sha256(signature), round)); the validator chose it some other way`);
  }
  if (freshness && p.beacon === 'drand-quicknet') {
    const published = drandRoundTime(p.round as number, trusted);
    const age = freshness.nowSeconds - published;
    const at = new Date(published * 1000).toISOString();
    if (age > freshness.maxAgeSeconds) {
      return fail('stale', `drand round ${p.round} was published at ${at}, ${Math.round(age)} s ago; a window opens on a round at most ${freshness.maxAgeSeconds} s old, so the validator picked a past round (it could choose its randomness that way); refusing it`);
    }
    if (-age > trusted.periodSeconds) {
      return fail('stale', `drand round ${p.round} is due at ${at}, ${Math.round(-age)} s from now by this machine's clock; check the clock (NTP) of this miner`);
    }
  }
  return { ok: true, round: p.round as number, beacon: p.beacon };
}

/** The miner's clock and how old a window's drand round may be (check 4 of the module comment). */
export interface BeaconFreshness {
  readonly nowSeconds: number;
  readonly maxAgeSeconds: number;
}

/**
 * How old a window's beacon round may be when a miner checks it: the validator opens the window on the round current
 * then, and a miner may first look at any time until the window's uploads close (collection + upload grace); plus
 * two periods and 30 s of clock difference between validator, miner and drand.
 */
export function beaconMaxAgeSeconds(profile: Pick<Profile, 'window' | 'drand'>): number {
  return profile.window.collectionSeconds + profile.window.uploadGraceSeconds + 2 * profile.drand.periodSeconds + 30;
}
