/**
 * Submission assembly (core/miner/submission.ts): the body authenticates under the validator's randomness
 * (schema, envelope, commit signatures, beacon, termination), the precommit signs exactly the bytes' size and
 * sha256, the Merkle root survives the validator's Python-JSON recomputation, the envelope binds every routing
 * field (v3 layout for a non-empty profile id, v2 for an empty one), and the local preflight finds certain rejects.
 */
import { describe, expect, it } from 'vitest';
import { assembleSubmission, commitGroup, finaliseSubmission, preflightGroup, type GroupRouting } from '../../core/miner/submission.ts';
import type { GeneratedRollout } from '../../core/miner/submission.ts';
import type { Profile } from '../../core/profile/index.ts';
import { authenticateSubmission, requestPrecommitDigest } from '../../core/protocol/admission.ts';
import { envelopeDigest } from '../../core/protocol/bindings.ts';
import { hex } from '../../core/protocol/codec.ts';
import { sha256 } from '../../core/protocol/hash.ts';
import { legacyMerkleRoot } from '../../core/protocol/hashes.ts';
import { parsePyJson } from '../../core/protocol/pyjson.ts';
import { Reason } from '../../core/protocol/reasons.ts';
import { verifySignature } from '../../core/protocol/sr25519.ts';
import { parseJsonBody, parsePrecommit, parseSubmission } from '../../core/protocol/wire.ts';
import { grpoAdvantages } from '../../core/training/grpo.ts';
import { ARITH, PROFILE, RANDOMNESS, TOKENIZER, WINDOW, defaultPlan, plainText, scriptedGenerator, signer } from './helpers.ts';

const ROUTING: GroupRouting = { env: 'arith', promptIdx: 123, windowStart: WINDOW, randomness: RANDOMNESS, checkpointHash: 'ab'.repeat(20) };
const FIN = { drandRound: 4242, nonce: '0a'.repeat(16) };

async function rolloutsFor(promptIdx = ROUTING.promptIdx, plan = defaultPlan): Promise<GeneratedRollout[]> {
  const problem = ARITH.getProblem(promptIdx);
  const prompt = TOKENIZER.encode(problem.prompt);
  const gen = scriptedGenerator(plan);
  return [...(await gen({ env: ARITH, problem, prompt, stream: { randomness: RANDOMNESS, promptIdx, checkpointHash: '' }, rollouts: 16, maxNewTokens: 32, eosTokenIds: [1] }))];
}

const rewardsOf = (rs: GeneratedRollout[]) => rs.map((r) => ARITH.computeReward(ARITH.getProblem(ROUTING.promptIdx), plainText(null, r)));

function authenticate(bytes: Uint8Array, randomness = RANDOMNESS, profile: Profile = PROFILE) {
  const parsed = parseJsonBody(bytes, profile.wire.maxPayloadBytes);
  if (!parsed.ok) throw new Error(parsed.rejection.message);
  return authenticateSubmission(parsed.value, { profile, randomness });
}

describe('assembleSubmission', async () => {
  const rollouts = await rolloutsFor();
  const rewards = rewardsOf(rollouts);
  const s = assembleSubmission(PROFILE, signer, ROUTING, rollouts, rewards, FIN);

  it('grades 4 of 16 correct with the scripted plan (an in-zone group)', () => {
    expect(rewards.filter((r) => r === 1)).toHaveLength(4);
  });

  it('round-trips through parseSubmission and authenticateSubmission with the validator randomness', () => {
    const parsed = parseJsonBody(s.bytes, PROFILE.wire.maxPayloadBytes);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parseSubmission(parsed.value, PROFILE).ok).toBe(true);
    const auth = authenticate(s.bytes);
    expect(auth.ok ? 'ok' : auth.rejection).toBe('ok');
    if (!auth.ok) return;
    expect(auth.value.miner_hotkey).toBe(signer.ss58);
    expect(auth.value.generation_profile_id).toBe(PROFILE.id);
    expect(auth.value.rollouts.map((r) => r.reward)).toEqual(rewards);
  });

  it('fails the envelope under any other randomness (it is never on the wire)', () => {
    const auth = authenticate(s.bytes, '6e'.repeat(32));
    expect(auth.ok ? 'ok' : auth.rejection.reason).toBe(Reason.BAD_ENVELOPE_SIGNATURE);
  });

  it('fills the commit metadata: completion-only logprobs, advantages, model, proof version, beacon', () => {
    const adv = grpoAdvantages(rewards, PROFILE.grpo.advantageEpsilon);
    s.body.rollouts.forEach((r, i) => {
      const m = r.commit.rollout;
      expect(m.prompt_length + m.completion_length).toBe(r.tokens.length);
      expect(m.token_logprobs).toHaveLength(m.completion_length);
      expect(m.advantage).toBe(adv[i]);
      expect(m.total_reward).toBe(rewards[i]);
      expect(m.success).toBe(rewards[i]! > 0.5);
      expect(r.commit.model).toEqual({ name: PROFILE.model.id, layer_index: PROFILE.model.layerIndex });
      expect(r.commit.proof_version).toBe(PROFILE.grail.proofVersion);
      expect(r.commit.beacon.randomness).toBe(RANDOMNESS);
      expect(r.commit.commitments).toHaveLength(r.tokens.length);
    });
  });

  it('commits the precommit to the exact bytes: size, sha256 and a signature over the validator randomness', () => {
    expect(s.precommit.payload_bytes).toBe(s.bytes.length);
    expect(s.precommit.payload_sha256).toBe(hex(sha256(s.bytes)));
    expect(parsePrecommit(s.precommit, PROFILE).ok).toBe(true);
    const p = s.precommit;
    const digest = requestPrecommitDigest(p, RANDOMNESS, PROFILE);
    expect(verifySignature(digest, p.precommit_signature, signer.ss58)).toBe(true);
    expect(p.nonce).toBe(s.body.nonce);
    expect(p.merkle_root).toBe(s.body.merkle_root);
  });

  it('has a Merkle root equal to the validator recomputation over the parsed body (Python JSON)', () => {
    const parsed = parsePyJson(s.bytes) as { rollouts: { tokens: unknown; reward: unknown; commit: unknown }[] };
    expect(legacyMerkleRoot(parsed.rollouts)).toBe(s.body.merkle_root);
  });

  const mutations: [string, (b: Record<string, unknown>) => void][] = [
    ['miner_hotkey', (b) => (b['miner_hotkey'] = signerFromOther())],
    ['window_start', (b) => (b['window_start'] = WINDOW + 1)],
    ['prompt_idx', (b) => (b['prompt_idx'] = 124)],
    ['merkle_root', (b) => (b['merkle_root'] = 'cd'.repeat(32))],
    ['checkpoint_hash', (b) => (b['checkpoint_hash'] = '')],
    ['drand_round', (b) => (b['drand_round'] = FIN.drandRound + 1)],
    ['nonce', (b) => (b['nonce'] = '0b'.repeat(16))],
    ['protocol_version', (b) => (b['protocol_version'] = 3)],
    ['generation_profile_id', (b) => (b['generation_profile_id'] = 'qwen3-4b-base-dapo-v4')],
    ['generation_profile_id (emptied: v2 layout)', (b) => delete b['generation_profile_id']],
  ];
  it.each(mutations)('breaks the envelope when %s changes', (_name, mutate) => {
    const body = JSON.parse(new TextDecoder().decode(s.bytes)) as Record<string, unknown>;
    mutate(body);
    const auth = authenticateSubmission(body, { profile: PROFILE, randomness: RANDOMNESS });
    expect(auth.ok ? 'ok' : auth.rejection.reason).toBe(Reason.BAD_ENVELOPE_SIGNATURE);
  });

  it('signs the v3 envelope layout for a non-empty profile id', () => {
    const b = s.body;
    const f = { hotkey: b.miner_hotkey, windowStart: b.window_start, promptIdx: b.prompt_idx, merkleRoot: b.merkle_root, checkpointHash: b.checkpoint_hash, drandRound: b.drand_round, randomness: RANDOMNESS, nonce: b.nonce, protocolVersion: b.protocol_version };
    expect(verifySignature(envelopeDigest({ ...f, profileId: PROFILE.id }, PROFILE.wire), b.envelope_signature, signer.ss58)).toBe(true);
    expect(verifySignature(envelopeDigest({ ...f, profileId: '' }, PROFILE.wire), b.envelope_signature, signer.ss58)).toBe(false);
  });

  it('uses the v2 layout and omits generation_profile_id for an empty profile id', () => {
    const v2: Profile = { ...PROFILE, id: '' };
    const s2 = assembleSubmission(v2, signer, ROUTING, rollouts, rewards, FIN);
    expect('generation_profile_id' in s2.body).toBe(false);
    const auth = authenticate(s2.bytes, RANDOMNESS, v2);
    expect(auth.ok ? 'ok' : auth.rejection).toBe('ok');
  });

  it('binds each commit: a changed model name fails its signature (BAD_SIGNATURE)', () => {
    const body = JSON.parse(new TextDecoder().decode(s.bytes)) as { rollouts: { commit: { model: { name: string } } }[] };
    body.rollouts[5]!.commit.model.name = 'someone/else';
    const auth = authenticateSubmission(body, { profile: PROFILE, randomness: RANDOMNESS });
    expect(auth.ok ? 'ok' : [auth.rejection.reason, auth.rejection.path]).toEqual([Reason.BAD_SIGNATURE, 'rollouts[5].commit.signature']);
  });

  it('re-finalising changes only the envelope, the bytes and the precommit, never the commits', () => {
    const again = finaliseSubmission(PROFILE, signer, s.group, { drandRound: FIN.drandRound + 1, nonce: '0c'.repeat(16) });
    expect(again.body.merkle_root).toBe(s.body.merkle_root);
    expect(again.body.rollouts).toBe(s.body.rollouts);
    expect(again.payloadSha256).not.toBe(s.payloadSha256);
    expect(again.precommit.precommit_signature).not.toBe(s.precommit.precommit_signature);
    expect(authenticate(again.bytes).ok).toBe(true);
  });

  it('binds commits to another beacon randomness only when asked (a WRONG_RANDOMNESS case)', () => {
    const g = commitGroup(PROFILE, signer, ROUTING, rollouts, rewards, { beaconRandomness: '6e'.repeat(32) });
    const auth = authenticate(finaliseSubmission(PROFILE, signer, g, FIN).bytes);
    expect(auth.ok ? 'ok' : auth.rejection.reason).toBe(Reason.WRONG_RANDOMNESS);
  });

  it('takes the model identity from the options', () => {
    const g = commitGroup(PROFILE, signer, ROUTING, rollouts, rewards, { modelName: 'local/tiny', layerIndex: 1 });
    expect(g.rollouts[0]!.commit.model).toEqual({ name: 'local/tiny', layer_index: 1 });
    expect(authenticate(finaliseSubmission(PROFILE, signer, g, FIN).bytes).ok).toBe(true);
  });
});

describe('preflightGroup', async () => {
  it('passes an honest group', async () => {
    expect(preflightGroup(PROFILE, 'arith', await rolloutsFor())).toBeNull();
  });
  it('finds too many truncated rollouts (BAD_TERMINATION), short commits (BAD_SCHEMA) and a wrong count', async () => {
    const two = await rolloutsFor(5, (r) => defaultPlan(r).map((x, m) => ({ ...x, truncated: m < 2 })));
    expect(preflightGroup(PROFILE, 'arith', two)?.reason).toBe(Reason.BAD_TERMINATION);
    const one = await rolloutsFor(5, (r) => defaultPlan(r).map((x, m) => ({ ...x, truncated: m < 1 })));
    expect(preflightGroup(PROFILE, 'arith', one)).toBeNull();
    const short = (await rolloutsFor()).map((r) => ({ ...r, tokens: Array.from(r.tokens).slice(0, 3), promptLength: 2 }));
    expect(preflightGroup(PROFILE, 'arith', short)?.reason).toBe(Reason.BAD_SCHEMA);
    expect(preflightGroup(PROFILE, 'arith', (await rolloutsFor()).slice(1))?.reason).toBe(Reason.BAD_SCHEMA);
    expect(preflightGroup(PROFILE, 'nope', await rolloutsFor())?.reason).toBe(Reason.BAD_SCHEMA);
    const twins = await rolloutsFor(5, (r) => defaultPlan(r).map(() => ({ text: '7' })));
    const twinGroup = twins.map((r, m) => (m === 3 ? { ...twins[1]!, truncated: r.truncated } : r));
    const v4Rule: Profile = { ...PROFILE, admission: { ...PROFILE.admission, rejectDuplicateRolloutsInGroup: true } };
    const dup = preflightGroup(v4Rule, 'arith', twinGroup);
    expect([dup?.reason, dup?.path]).toEqual([Reason.HASH_DUPLICATE, 'rollouts[3].tokens']);
    // the devnet profile admits in-group twins (admission.rejectDuplicateRolloutsInGroup: false)
    expect(preflightGroup({ ...PROFILE, admission: { ...PROFILE.admission, rejectDuplicateRolloutsInGroup: false } }, 'arith', twinGroup)).toBeNull();
  });
});

function signerFromOther(): string {
  return '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty';
}
