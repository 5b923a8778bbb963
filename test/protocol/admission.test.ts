import { describe, expect, it } from 'vitest';
import { DEVNET } from '../../core/profile/index.ts';
import { hex, utf8 } from '../../core/protocol/codec.ts';
import { sha256 } from '../../core/protocol/hash.ts';
import { authenticateSubmission, requestEnvelopeDigest, rolloutBindingDigest } from '../../core/protocol/admission.ts';
import { Reason } from '../../core/protocol/reasons.ts';
import { windowRandomness } from '../../core/protocol/randomness.ts';
import { signerFromSeed } from '../../core/protocol/sr25519.ts';
import { parseRolloutCommit, parseSubmissionRequest, type ParsedRollout } from '../../core/protocol/wire.ts';
import { mineGroup, validateGroup, type RoundSetup } from '../../hosts/node/walkthrough/round.ts';
import { ToyLM } from '../../hosts/node/walkthrough/toy-lm.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const setup: RoundSetup = {
  profile: DEVNET,
  env: 'arith',
  randomness: windowRandomness('fc1873a13f3545aeade8401532ef5519920652eee6b0d2b19ca12643b87b3587', 657413),
  checkpointHash: hex(sha256(utf8('test checkpoint'))).slice(0, 40),
  windowStart: 7,
  drandRound: 657413,
  promptIdx: 42,
};
const lm = new ToyLM(DEVNET.model.vocabSize);
const miner = signerFromSeed(sha256(utf8('admission test miner')));
const honest = mineGroup(setup, lm, miner);
const fresh = (): Json => JSON.parse(honest.body) as Json;
/** DEVNET with the v4 in-group duplicate rule on (the devnet turns it off: `admission.rejectDuplicateRolloutsInGroup`). */
const ctx = { profile: { ...DEVNET, admission: { ...DEVNET.admission, rejectDuplicateRolloutsInGroup: true } }, randomness: setup.randomness };

/** Re-signs every commit and the envelope after a mutation, so only the mutation itself can fail. */
function resign(req: Json): Json {
  for (const [i, ro] of (req['rollouts'] as Json[]).entries()) {
    const parsed = parseRolloutCommit(ro as never, i, DEVNET);
    if (parsed.ok) ro['commit']['signature'] = miner.sign(rolloutBindingDigest(parsed.value as ParsedRollout, DEVNET));
  }
  const r = parseSubmissionRequest(req, DEVNET);
  if (r.ok) req['envelope_signature'] = miner.sign(requestEnvelopeDigest(r.value, setup.randomness, DEVNET));
  return req;
}
const reasonOf = (req: Json): string => {
  const r = authenticateSubmission(req, ctx);
  return r.ok ? 'ok' : r.rejection.reason;
};
const rollout = (req: Json, i: number): Json => (req['rollouts'] as Json[])[i]!;
const setTokens = (ro: Json, toks: number[]) => {
  ro['tokens'] = toks;
  ro['commit']['tokens'] = toks;
  ro['commit']['commitments'] = toks.map(() => ({ sketch: 1 }));
  ro['commit']['rollout']['completion_length'] = toks.length - ro['commit']['rollout']['prompt_length'];
  ro['commit']['rollout']['token_logprobs'] = toks.map(() => -1);
};

describe('authenticateSubmission', () => {
  it('accepts the honest group', () => {
    expect(reasonOf(fresh())).toBe('ok');
  });

  it.each<[string, string, (req: Json) => Json]>([
    ['a 15-rollout body', Reason.BAD_SCHEMA, (r) => (r['rollouts'].pop(), r)],
    ['a 17-rollout body', Reason.BAD_SCHEMA, (r) => (r['rollouts'].push(r['rollouts'][0]), r)],
    ['an envelope signed by another key', Reason.BAD_ENVELOPE_SIGNATURE, (r) => ((r['envelope_signature'] = signerFromSeed(new Uint8Array(32)).sign('x')), r)],
    ['an envelope over another nonce', Reason.BAD_ENVELOPE_SIGNATURE, (r) => ((r['nonce'] = 'ff'), r)],
    ['a token changed after signing', Reason.BAD_SIGNATURE, (r) => (setTokens(rollout(r, 2), [...rollout(r, 2)['tokens'].slice(0, -2), 3, 1]), r)],
    ['a wrong proof version (a Literal in upstream CommitModel)', Reason.BAD_SCHEMA, (r) => resign(((rollout(r, 0)['commit']['proof_version'] = 'v6'), r))],
    ['tokens ≠ commit.tokens', Reason.TOKENS_MISMATCH, (r) => ((rollout(r, 4)['tokens'] = [...rollout(r, 4)['tokens'].slice(0, -1), 5]), r)],
    ['a token id = vocab', Reason.BAD_TOKENS, (r) => resign((setTokens(rollout(r, 1), [...rollout(r, 1)['tokens'].slice(0, -1), DEVNET.model.vocabSize]), r))],
    ['commits bound to another randomness', Reason.WRONG_RANDOMNESS, (r) => resign(((rollout(r, 3)['commit']['beacon']['randomness'] = 'ab'.repeat(32)), r))],
    ['a duplicated rollout', Reason.HASH_DUPLICATE, (r) => resign(((r['rollouts'][9] = structuredClone(r['rollouts'][8])), r))],
    ['two EOS', Reason.BAD_TERMINATION, (r) => resign((setTokens(rollout(r, 5), [...rollout(r, 5)['tokens'].slice(0, -1), 1, 4, 1]), r))],
    ['no EOS below the cap', Reason.BAD_TERMINATION, (r) => resign((setTokens(rollout(r, 5), [...rollout(r, 5)['tokens'].slice(0, -1), 4]), r))],
    ['forced = true', Reason.TOKEN_TAMPERED, (r) => resign(((rollout(r, 6)['commit']['rollout']['forced'] = true), r))],
  ])('%s → %s', (_name, want, mutate) => {
    expect(reasonOf(mutate(fresh()))).toBe(want);
  });

  it('the devnet profile admits identical rollouts in a group (exact short answers repeat)', () => {
    const r = fresh();
    resign(((r['rollouts'][9] = structuredClone(r['rollouts'][8])), r));
    expect(authenticateSubmission(r, { profile: DEVNET, randomness: setup.randomness }).ok).toBe(true);
  });

  it('reports only the first failure in §8 order', () => {
    // schema beats the envelope
    const a = fresh();
    a['rollouts'].pop();
    a['nonce'] = 'ff';
    expect(reasonOf(a)).toBe(Reason.BAD_SCHEMA);
    // the envelope beats every per-rollout fault
    const b = fresh();
    rollout(b, 0)['tokens'] = [1];
    b['nonce'] = 'ff';
    expect(reasonOf(b)).toBe(Reason.BAD_ENVELOPE_SIGNATURE);
    // rollout order: a bad signature on rollout 0 beats a token mismatch on rollout 5
    const c = fresh();
    rollout(c, 0)['commit']['signature'] = rollout(c, 1)['commit']['signature'];
    rollout(c, 5)['tokens'] = [...rollout(c, 5)['tokens'].slice(0, -1), 5];
    expect(reasonOf(c)).toBe(Reason.BAD_SIGNATURE);
    // within a rollout: the signature is checked before the randomness, the randomness before termination
    const d = resign(fresh());
    rollout(d, 2)['commit']['beacon']['randomness'] = 'cd'.repeat(32);
    setTokens(rollout(d, 3), [...rollout(d, 3)['tokens'].slice(0, -1), 4]);
    resign(d);
    expect(reasonOf(d)).toBe(Reason.WRONG_RANDOMNESS);
  });

  it('never throws on random mutations', () => {
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 48271) % 2147483647), seed % n);
    const junk = [null, 0, -1, 1.5, '', 'x', [], {}, true, 2 ** 60];
    for (let n = 0; n < 150; n++) {
      const req = fresh();
      const ro = rollout(req, rnd(16));
      const targets: Json[] = [req, ro, ro['commit'], ro['commit']['rollout']];
      const obj = targets[rnd(targets.length)]!;
      const keys = Object.keys(obj);
      const key = keys[rnd(keys.length)]!;
      if (rnd(3) === 0) delete obj[key];
      else obj[key] = junk[rnd(junk.length)];
      expect(() => authenticateSubmission(req, ctx)).not.toThrow();
    }
  });
});

describe('the walkthrough validator (rewards, zone, sketches, forced seed)', () => {
  it('accepts the honest group with every stochastic position on the public stream', () => {
    const v = validateGroup(setup, lm, honest.body);
    expect(v.accepted).toBe(true);
    const [m, s] = v.seedMatch!.split('/').map(Number);
    expect(m).toBe(s);
  });

  it('rejects inflated reward claims and groups that ignore the public stream', () => {
    expect(validateGroup(setup, lm, mineGroup(setup, lm, miner, { inflateRewards: true }).body).reason).toBe(Reason.REWARD_MISMATCH);
    // Sampled from another checkpoint's stream but submitted for this one: the forced-seed gate catches it.
    const offStream = mineGroup({ ...setup, checkpointHash: 'f'.repeat(40) }, lm, miner).body;
    expect(validateGroup(setup, lm, offStream).reason).toBe(Reason.SEED_MISMATCH);
  });
});
