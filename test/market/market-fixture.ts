/**
 * Shared fixture of the admission, window, service and seal tests: the DEVNET profile with the toy arithmetic
 * task of the walkthrough (`hosts/node/walkthrough/round.ts`), a fixed window (5, randomness from round 1000),
 * an injected clock and drand clock, registered miners, and helpers to sign precommits and re-sign bodies.
 */
import type { RegistrySnapshot } from '../../core/interfaces/chain.ts';
import type { Environment } from '../../core/interfaces/environment.ts';
import { emptyAccumulator } from '../../core/market/accumulator.ts';
import { emptyContentCooldown, emptyIndexCooldown, emptyRolloutHashes } from '../../core/market/cooldown.ts';
import type { MarketState } from '../../core/market/seal.ts';
import { MarketValidator, type MarketValidatorOptions } from '../../core/market/validator-service.ts';
import { DEVNET, type Profile } from '../../core/profile/index.ts';
import { requestEnvelopeDigest, requestPrecommitDigest, rolloutBindingDigest } from '../../core/protocol/admission.ts';
import { hex, utf8 } from '../../core/protocol/codec.ts';
import { sha256 } from '../../core/protocol/hash.ts';
import { windowRandomness } from '../../core/protocol/randomness.ts';
import { signerFromSeed, type Signer } from '../../core/protocol/sr25519.ts';
import { parseRolloutCommit, parseSubmissionRequest, type ParsedRollout, type SubmissionPrecommitRequest } from '../../core/protocol/wire.ts';
import { mineGroup, toyProblem, type MinedGroup, type MinerStrategy, type RoundSetup } from '../../hosts/node/walkthrough/round.ts';
import { ToyLM, toyDecode, toyEncode } from '../../hosts/node/walkthrough/toy-lm.ts';

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const PROFILE = DEVNET;
export const ENV = 'arith';
export const WINDOW = 5;
export const ROUND = 1000;
/** Activation time of the window. */
export const T0 = 1_700_000_000;
export const RANDOMNESS = windowRandomness('fc'.repeat(32), ROUND);
/** In-zone prompts of the toy LM under RANDOMNESS and the devnet's v5 stream (k successes of 16 in brackets): 1 [5], 2 [1], 4 [5], 5 [3]… */
export const IN_ZONE = [1, 2, 4, 5, 6, 7, 8, 10, 11, 12] as const;
/** Prompt 14: k = 0, out of zone. Prompt 15: in zone (k = 1) with two identical rollouts (in-group HASH_DUPLICATE). */
export const ALL_WRONG = 14;
export const TWIN_ROLLOUTS = 15;

/** The drand clock of the fixture: round ROUND at T0, a round every 3 s. */
export const roundAt = (t: number): number => ROUND + Math.floor((t - T0) / 3);

export const signer = (name: string): Signer => signerFromSeed(sha256(utf8(`market test ${name}`)));
export const ALICE = signer('alice');
export const BOB = signer('bob');
/** Bob's second hotkey (same coldkey as Bob). */
export const BOB2 = signer('bob2');
export const CAROL = signer('carol');
/** Registered under two coldkeys: no operator. */
export const MALLORY = signer('mallory');
export const OUTSIDER = signer('outsider');
export const VALIDATOR = signer('validator');

export function registry(takenAt = T0): RegistrySnapshot {
  return {
    takenAt,
    neurons: [
      { uid: 1, hotkey: ALICE.ss58, coldkey: 'cold-alice' },
      { uid: 2, hotkey: BOB.ss58, coldkey: 'cold-bob' },
      { uid: 3, hotkey: BOB2.ss58, coldkey: 'cold-bob' },
      { uid: 4, hotkey: CAROL.ss58, coldkey: 'cold-carol' },
      { uid: 5, hotkey: MALLORY.ss58, coldkey: 'cold-m1' },
      { uid: 6, hotkey: MALLORY.ss58, coldkey: 'cold-m2' },
    ],
  };
}

/** The toy task as an `Environment`: prompt `a+b=`, reward 1 when the completion starts with the sum's first digit. */
export function toyEnv(size = 1000, shift = 0): Environment {
  return {
    name: ENV,
    size,
    getProblem(i) {
      const { prompt, answer } = toyProblem(i + shift);
      return { prompt, groundTruth: answer, id: prompt };
    },
    computeReward(problem, text) {
      return text.startsWith(problem.groundTruth[0]!) ? 1 : 0;
    },
  };
}

export const toyTokenizer = { encode: toyEncode, decode: (ids: readonly number[]) => toyDecode(ids) };

export function emptyMarket(p: Profile = PROFILE): MarketState {
  return {
    indexCooldown: emptyIndexCooldown('test-run', p.cooldown.indexWindows),
    contentCooldown: emptyContentCooldown(p.cooldown.indexWindows),
    rolloutHashes: emptyRolloutHashes(p.cooldown.rolloutHashWindows),
    accumulator: emptyAccumulator(Object.fromEntries(p.environmentMix)),
  };
}

/** A controllable clock. */
export function fakeClock(start = T0): { now: () => number; set: (t: number) => void } {
  let t = start;
  return { now: () => t, set: (x) => void (t = x) };
}

/** A validator over the toy task, window WINDOW ready to open (call `openWindow`). */
export function makeValidator(o: Partial<MarketValidatorOptions> = {}): MarketValidator {
  let n = 0;
  return new MarketValidator({
    profile: PROFILE,
    envs: { [ENV]: toyEnv() },
    tokenizer: toyTokenizer,
    clock: () => T0,
    roundAt,
    market: emptyMarket(o.profile ?? PROFILE),
    nextWindow: WINDOW,
    randomBytes: (k) => sha256(utf8(`receipt ${n++}`)).slice(0, k),
    ...o,
  });
}

export function openWindow(v: MarketValidator, reg: RegistrySnapshot | null = registry()): MarketValidator {
  v.open({ now: T0, openRound: ROUND, randomness: RANDOMNESS, registry: reg });
  return v;
}

/** A signed precommit for a body of `payloadBytes` bytes with `payloadSha256` (no body needed for gate A). */
export function signPrecommit(by: Signer, over: Partial<SubmissionPrecommitRequest> = {}, p: Profile = PROFILE, randomness = RANDOMNESS): SubmissionPrecommitRequest {
  const req: SubmissionPrecommitRequest = {
    miner_hotkey: by.ss58,
    prompt_idx: 1,
    window_start: WINDOW,
    merkle_root: 'ab'.repeat(32),
    checkpoint_hash: '',
    environment: ENV,
    payload_bytes: 1000,
    payload_sha256: 'cd'.repeat(32),
    drand_round: ROUND,
    protocol_version: p.protocolVersion,
    generation_profile_id: p.id,
    nonce: hex(sha256(utf8(`${by.ss58}${JSON.stringify(over)}`))).slice(0, 32),
    precommit_signature: '',
    ...over,
  };
  const digest = requestPrecommitDigest(req, randomness, p);
  return { ...req, precommit_signature: over.precommit_signature ?? by.sign(digest) };
}

/** The precommit of exactly `body` (its routing fields, size and sha256), signed by `by`. */
export function precommitForBody(by: Signer, body: string | Uint8Array, over: Partial<SubmissionPrecommitRequest> = {}): SubmissionPrecommitRequest {
  const bytes = typeof body === 'string' ? utf8(body) : body;
  const req = JSON.parse(new TextDecoder().decode(bytes)) as Json;
  return signPrecommit(by, {
    miner_hotkey: req['miner_hotkey'],
    prompt_idx: req['prompt_idx'],
    window_start: req['window_start'],
    merkle_root: req['merkle_root'],
    checkpoint_hash: req['checkpoint_hash'],
    drand_round: req['drand_round'],
    nonce: req['nonce'],
    payload_bytes: bytes.length,
    payload_sha256: hex(sha256(bytes)),
    ...over,
  });
}

const lm = new ToyLM(PROFILE.model.vocabSize);
const cache = new Map<string, MinedGroup>();

/** An honest (or strategic) toy group of window WINDOW on `promptIdx` by `by`, memoised. */
export function mined(promptIdx: number, by: Signer = ALICE, strategy: MinerStrategy = {}): MinedGroup {
  const key = `${promptIdx}|${by.ss58}|${JSON.stringify(strategy)}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const setup: RoundSetup = { profile: PROFILE, env: ENV, randomness: RANDOMNESS, checkpointHash: '', windowStart: WINDOW, drandRound: ROUND, promptIdx };
  const g = mineGroup(setup, lm, by, strategy);
  cache.set(key, g);
  return g;
}

/** Re-signs every commit and the envelope of a mutated body, so only the mutation can fail. */
export function resign(req: Json, by: Signer, randomness = RANDOMNESS): Json {
  for (const [i, ro] of (req['rollouts'] as Json[]).entries()) {
    const parsed = parseRolloutCommit(ro as never, i, PROFILE);
    if (parsed.ok) ro['commit']['signature'] = by.sign(rolloutBindingDigest(parsed.value as ParsedRollout, PROFILE));
  }
  const r = parseSubmissionRequest(req, PROFILE);
  if (r.ok) req['envelope_signature'] = by.sign(requestEnvelopeDigest(r.value, randomness, PROFILE));
  return req;
}

/** Precommits and reveals `body` at T0 + 1 on `v`, then waits for the worker; returns the receipt id. */
export async function submitBody(v: MarketValidator, by: Signer, body: string, over: Partial<SubmissionPrecommitRequest> = {}): Promise<string> {
  const bytes = utf8(body);
  const pre = v.precommit(precommitForBody(by, bytes, over), T0 + 1);
  if (!pre.ok) throw new Error(`precommit refused: ${pre.rejection.message}`);
  const sub = v.submit({ receiptId: pre.receipt.receiptId, body: bytes, contentLength: bytes.length, arrivalTs: T0 + 2, completedTs: T0 + 2 });
  if (!sub.ok) throw new Error(`reveal refused: ${sub.rejection.message}`);
  await v.idle();
  return pre.receipt.receiptId;
}

/** The latest verdict reason recorded for `by`. */
export function lastReason(v: MarketValidator, by: Signer): string | undefined {
  const list = v.verdicts(by.ss58, 0);
  return list[list.length - 1]?.reason;
}
