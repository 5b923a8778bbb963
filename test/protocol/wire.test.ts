/**
 * Wire schemas and structural admission (spec/protocol.md §7, §8): a valid fixture, one table of rejects per
 * reason, the first-failure order, JSON bodies and caps, the reason enum, and a never-throws mutation fuzz.
 */
import { describe, expect, it } from 'vitest';
import { DEVNET, V4, type Profile } from '../../core/profile/index.ts';
import { HIGH_RISK_REASONS, LEGACY_REASONS, REASON_CODES, REASON_MESSAGES, Reason } from '../../core/protocol/reasons.ts';
import { httpStatusFor, isReasonCode, reject, type ReasonCode } from '../../core/protocol/reasons.ts';
import { type ParseResult, parseJsonBody, parsePrecommit, parseSubmission, wireSchemas } from '../../core/protocol/wire.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type J = any;

const P = 8;
const C = 32;
const L = P + C;
const FP_HASH = 'ef'.repeat(32);

/** One valid rollout: 40 tokens (P=8, C=32), distinct per index, completion-only logprobs. */
function validRollout(i: number): J {
  const tokens = Array.from({ length: L }, (_, t) => (1000 * i + 7 * t + 1) % V4.model.vocabSize);
  return {
    tokens: [...tokens],
    reward: i % 2 ? 1.0 : 0.0,
    env_name: 'openmathinstruct',
    commit: {
      tokens: [...tokens],
      commitments: tokens.map((_, t) => ({ sketch: (t * 7919) % 2147483647 })),
      proof_version: 'v7',
      model: { name: 'Qwen/Qwen3-4B-Base', layer_index: -1 },
      signature: 'ab'.repeat(64),
      beacon: { randomness: '5f'.repeat(32) },
      rollout: {
        ...{ prompt_length: P, completion_length: C, success: i % 2 === 1, total_reward: i % 2 ? 1.0 : 0.0, advantage: 0.25 },
        ...{ token_logprobs: Array.from({ length: C }, (_, t) => -0.01 * t), forced: false, force_span: null, truncated: false },
      },
    },
  };
}

/** A full valid 16-rollout submission under V4. */
function validSubmission(): J {
  return {
    ...{ miner_hotkey: '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY', prompt_idx: 77, window_start: 29400 },
    ...{ merkle_root: 'ab'.repeat(32), checkpoint_hash: V4.model.revision, drand_round: 5000000 },
    rollouts: Array.from({ length: V4.wire.rolloutsPerGroup }, (_, i) => validRollout(i)),
    ...{ protocol_version: V4.protocolVersion, generation_profile_id: V4.id, nonce: '00ff'.repeat(8), envelope_signature: 'cd'.repeat(64) },
  };
}

function validPrecommit(): J {
  const s = validSubmission();
  delete s.rollouts;
  delete s.envelope_signature;
  return { ...s, environment: 'openmathinstruct', payload_bytes: 123456, payload_sha256: 'cd'.repeat(32), precommit_signature: 'ab'.repeat(64) };
}

/** A `/submit` body: the profile's payload cap, then the submission checks (likewise for the precommit's 16 KiB cap). */
const parseSubmissionBody = (b: string | Uint8Array, p: Profile): ParseResult<unknown> => {
  const j = parseJsonBody(b, p.wire.maxPayloadBytes);
  return j.ok ? parseSubmission(j.value, p) : j;
};
const parsePrecommitBody = (b: string | Uint8Array, p: Profile): ParseResult<unknown> => {
  const j = parseJsonBody(b, p.wire.maxPrecommitBodyBytes);
  return j.ok ? parsePrecommit(j.value, p) : j;
};

/** Makes rollout `i` consistent with `tokens` and prompt length `p` (commitments and logprobs resized). */
function setTokens(s: J, i: number, tokens: number[], p: number): void {
  const r = s.rollouts[i];
  Object.assign(r, { tokens: [...tokens] });
  Object.assign(r.commit, { tokens: [...tokens], commitments: tokens.map(() => ({ sketch: 0 })) });
  const c = tokens.length - p;
  Object.assign(r.commit.rollout, { prompt_length: p, completion_length: c, token_logprobs: new Array(c).fill(0) });
}
const seq = (n: number, mod = 1000): number[] => Array.from({ length: n }, (_, k) => k % mod);

const fingerprint = (): J => ({ python_version: '3.11.9', platform: 'linux', cuda_available: true, profile_hash: FP_HASH });

/** Calls `fn` asserting it does not throw, and returns its result. */
function safely<T>(fn: () => ParseResult<T>): ParseResult<T> {
  let r: ParseResult<T> | undefined;
  expect(() => void (r = fn())).not.toThrow();
  return r as ParseResult<T>;
}

function expectReject<T>(r: ParseResult<T>, reason: ReasonCode, path?: string): void {
  if (r.ok) throw new Error(`expected ${reason}, got ok`);
  expect(r.rejection.reason).toBe(reason);
  if (path !== undefined) expect(r.rejection.path).toBe(path);
  expect(r.rejection.message.length).toBeGreaterThan(20);
}

function mutated(f: (s: J) => void, base: () => J = validSubmission): J {
  const s = base();
  f(s);
  return s;
}

const r0 = (s: J): J => s.rollouts[0];
const meta = (s: J, i = 0): J => s.rollouts[i].commit.rollout;

describe('valid fixture', () => {
  it('parses, with commits typed; applies upstream defaults (drand_round, protocol_version 0, empty profile id, nonce, signature)', () => {
    const s = mutated((x) => {
      for (const k of ['drand_round', 'protocol_version', 'generation_profile_id', 'nonce', 'envelope_signature']) delete x[k];
      for (const r of x.rollouts) for (const k of ['forced', 'force_span', 'truncated']) delete r.commit.rollout[k];
    });
    const r = safely(() => parseSubmission(s, V4));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect([r.value.drand_round, r.value.protocol_version, r.value.generation_profile_id, r.value.nonce]).toEqual([0, 0, '', '']);
    expect([r.value.rollouts.length, r.value.rollouts[3]?.commit.rollout.completion_length, r.value.runtime_fingerprint]).toEqual([16, C, null]);
    expect(r.value.rollouts[0]?.commit.rollout.force_span).toBeNull();
  });

  it.each([
    ['completion-only logprobs (C)', (s: J) => (meta(s).token_logprobs = new Array(C).fill(-1))],
    ['full-sequence logprobs (L)', (s: J) => (meta(s).token_logprobs = new Array(L).fill(-1))],
    ['token id vocab-1 and 0', (s: J) => (r0(s).tokens[5] = r0(s).commit.tokens[5] = V4.model.vocabSize - 1)],
    ['nonce of exactly 128 chars', (s: J) => (s.nonce = 'a'.repeat(128))],
    ['profile id of exactly 64 chars', (s: J) => (s.generation_profile_id = 'p'.repeat(64))],
    ['checkpoint hash of exactly 256 chars / empty', (s: J) => (s.checkpoint_hash = 'c'.repeat(256))],
    ['empty checkpoint hash (bootstrap)', (s: J) => (s.checkpoint_hash = '')],
    ['nonce of 128 astral code points (Python counts code points)', (s: J) => (s.nonce = '😀'.repeat(128))],
    ['upper-case hex merkle root', (s: J) => (s.merkle_root = 'AB'.repeat(32))],
    ['completion at the cap', (s: J) => setTokens(s, 0, seq(P + 8192), P)],
    ['runtime fingerprint bound to the nonce', (s: J) => Object.assign(s, { runtime_fingerprint: fingerprint(), nonce: `00ff.${FP_HASH}` })],
  ])('accepts %s', (_name, f) => {
    const r = safely(() => parseSubmission(mutated(f), V4));
    expect(r.ok ? 'ok' : r.rejection.message).toBe('ok');
  });

  it('accepts an int given as 1.0 in JSON text, rejects 1.5', () => {
    const text = JSON.stringify(validSubmission()).replace('"prompt_idx":77', '"prompt_idx":77.0');
    expect(text).toContain('77.0');
    expect(safely(() => parseSubmissionBody(text, V4)).ok).toBe(true);
    expectReject(safely(() => parseSubmissionBody(text.replace('77.0', '77.5'), V4)), Reason.BAD_SCHEMA, 'prompt_idx');
  });
});

type Case = [name: string, mutate: (s: J) => void, path?: string];

const badSchema: Case[] = [
  ['15 rollouts', (s) => s.rollouts.pop(), 'rollouts'],
  ['17 rollouts', (s) => s.rollouts.push(validRollout(16)), 'rollouts'],
  ['0 rollouts', (s) => (s.rollouts = []), 'rollouts'],
  ['rollouts not a list', (s) => (s.rollouts = {}), 'rollouts'],
  ['unknown top-level key', (s) => (s.extra = 1), 'extra'],
  ['unknown "__proto__" key', (s) => Object.defineProperty(s, '__proto__', { value: {}, enumerable: true }), '__proto__'],
  ['unknown key in a rollout', (s) => (s.rollouts[2].weight = 1), 'rollouts[2].weight'],
  ['unknown key in commit', (s) => (s.rollouts[3].commit.extra = 'x'), 'rollouts[3].commit.extra'],
  ['unknown key in commit.model', (s) => (r0(s).commit.model.dtype = 'bf16'), 'rollouts[0].commit.model.dtype'],
  ['unknown key in commit.beacon', (s) => (r0(s).commit.beacon.round = 1), 'rollouts[0].commit.beacon.round'],
  ['unknown key in commit.rollout', (s) => (meta(s).extra = true), 'rollouts[0].commit.rollout.extra'],
  ['unknown key in a commitment', (s) => (r0(s).commit.commitments[5].x = 1), 'rollouts[0].commit.commitments[5].x'],
  ['unknown key in runtime_fingerprint', (s) => Object.assign(s, { runtime_fingerprint: { ...fingerprint(), extra: 1 }, nonce: `00ff.${FP_HASH}` }), 'runtime_fingerprint.extra'],
  ['runtime_fingerprint not bound to the nonce', (s) => (s.runtime_fingerprint = fingerprint()), 'nonce'],
  ['nonce of 129 chars', (s) => (s.nonce = 'n'.repeat(129)), 'nonce'],
  ['profile id of 65 chars', (s) => (s.generation_profile_id = 'p'.repeat(65)), 'generation_profile_id'],
  ['checkpoint hash of 257 chars', (s) => (s.checkpoint_hash = 'c'.repeat(257)), 'checkpoint_hash'],
  ['empty miner_hotkey', (s) => (s.miner_hotkey = ''), 'miner_hotkey'],
  ['missing miner_hotkey', (s) => delete s.miner_hotkey, 'miner_hotkey'],
  ['missing checkpoint_hash', (s) => delete s.checkpoint_hash, 'checkpoint_hash'],
  ['merkle root of 63 hex', (s) => (s.merkle_root = 'a'.repeat(63)), 'merkle_root'],
  ['merkle root of 65 hex', (s) => (s.merkle_root = 'a'.repeat(65)), 'merkle_root'],
  ['merkle root not hex', (s) => (s.merkle_root = 'zz'.repeat(32)), 'merkle_root'],
  ['merkle root with a trailing newline', (s) => (s.merkle_root = `${'ab'.repeat(32)}\n`), 'merkle_root'],
  ['envelope signature not hex', (s) => (s.envelope_signature = '0xab'), 'envelope_signature'],
  ['commit signature empty', (s) => (r0(s).commit.signature = ''), 'rollouts[0].commit.signature'],
  ['beacon randomness empty', (s) => (r0(s).commit.beacon.randomness = ''), 'rollouts[0].commit.beacon.randomness'],
  ['proof_version v6', (s) => (r0(s).commit.proof_version = 'v6'), 'rollouts[0].commit.proof_version'],
  ['prompt_idx negative', (s) => (s.prompt_idx = -1), 'prompt_idx'],
  ['prompt_idx 1.5', (s) => (s.prompt_idx = 1.5), 'prompt_idx'],
  ['prompt_idx above 2^53', (s) => (s.prompt_idx = 2 ** 60), 'prompt_idx'],
  ['window_start "5" (string)', (s) => (s.window_start = '5'), 'window_start'],
  ['drand_round true (bool)', (s) => (s.drand_round = true), 'drand_round'],
  ['protocol_version null', (s) => (s.protocol_version = null), 'protocol_version'],
  ['layer_index 1.5', (s) => (r0(s).commit.model.layer_index = -1.5), 'rollouts[0].commit.model.layer_index'],
  ['prompt_length "8"', (s) => (meta(s).prompt_length = '8'), 'rollouts[0].commit.rollout.prompt_length'],
  ['completion_length true', (s) => (meta(s).completion_length = true), 'rollouts[0].commit.rollout.completion_length'],
  ['token id 1.5 in tokens', (s) => (s.rollouts[1].tokens[3] = 1.5), 'rollouts[1].tokens[3]'],
  ['token id "7" in commit.tokens', (s) => (s.rollouts[1].commit.tokens[3] = '7'), 'rollouts[1].commit.tokens[3]'],
  ['token id false', (s) => (r0(s).tokens[0] = false), 'rollouts[0].tokens[0]'],
  ['empty tokens', (s) => (r0(s).tokens = []), 'rollouts[0].tokens'],
  ['reward NaN', (s) => (s.rollouts[6].reward = NaN), 'rollouts[6].reward'],
  ['reward Infinity', (s) => (s.rollouts[6].reward = Infinity), 'rollouts[6].reward'],
  ['reward "1.0"', (s) => (s.rollouts[6].reward = '1.0'), 'rollouts[6].reward'],
  ['total_reward -Infinity', (s) => (meta(s).total_reward = -Infinity), 'rollouts[0].commit.rollout.total_reward'],
  ['advantage NaN', (s) => (meta(s).advantage = NaN), 'rollouts[0].commit.rollout.advantage'],
  ['a NaN logprob', (s) => (meta(s).token_logprobs[4] = NaN), 'rollouts[0].commit.rollout.token_logprobs[4]'],
  ['success 1 (not a bool)', (s) => (meta(s).success = 1), 'rollouts[0].commit.rollout.success'],
  ['commit is a list', (s) => (r0(s).commit = []), 'rollouts[0].commit'],
  ['env_name missing', (s) => delete r0(s).env_name, 'rollouts[0].env_name'],
  ['completion_length 0 (empty completion)', (s) => Object.assign(meta(s), { prompt_length: L, completion_length: 0 }), 'rollouts[0].commit.rollout.completion_length'],
  ['completion_length above the cap', (s) => (meta(s).completion_length = 8193), 'rollouts[0].commit.rollout.completion_length'],
  ['P + C ≠ L', (s) => (meta(s).prompt_length = P + 1), 'rollouts[0].commit.rollout.completion_length'],
  ['logprobs of length C-1', (s) => meta(s).token_logprobs.pop(), 'rollouts[0].commit.rollout.token_logprobs'],
  ['logprobs of length C+1', (s) => meta(s).token_logprobs.push(0), 'rollouts[0].commit.rollout.token_logprobs'],
  ['logprobs of length L+1', (s) => (meta(s).token_logprobs = new Array(L + 1).fill(0)), 'rollouts[0].commit.rollout.token_logprobs'],
  ['logprobs empty', (s) => (meta(s).token_logprobs = []), 'rollouts[0].commit.rollout.token_logprobs'],
  ['commitments shorter than tokens', (s) => r0(s).commit.commitments.pop(), 'rollouts[0].commit.commitments'],
  ['commitments longer than tokens', (s) => r0(s).commit.commitments.push({ sketch: 0 }), 'rollouts[0].commit.commitments'],
  ['missing sketch', (s) => (s.rollouts[1].commit.commitments[7] = {}), 'rollouts[1].commit.commitments[7].sketch'],
  ['sketch 1.5', (s) => (r0(s).commit.commitments[0].sketch = 1.5), 'rollouts[0].commit.commitments[0].sketch'],
  ['sketch null', (s) => (r0(s).commit.commitments[0].sketch = null), 'rollouts[0].commit.commitments[0].sketch'],
  ['force_span of 3 ints', (s) => (meta(s).force_span = [1, 2, 3]), 'rollouts[0].commit.rollout.force_span'],
  ['fewer commit tokens than the minimum', (s) => setTokens(s, 0, seq(V4.wire.minCommitTokens - 1), 0), 'rollouts[0].commit.tokens'],
];

describe.each([
  [Reason.BAD_SCHEMA, badSchema],
  [Reason.TOKENS_MISMATCH, [
    ['one id differs', (s) => (s.rollouts[4].tokens[10] += 1), 'rollouts[4].tokens[10]'],
    ['tokens shorter than commit.tokens', (s) => s.rollouts[4].tokens.pop(), 'rollouts[4].tokens[39]'],
  ] as Case[]],
  [Reason.BAD_TOKENS, [
    ['a negative id', (s) => (s.rollouts[9].tokens[2] = s.rollouts[9].commit.tokens[2] = -1), 'rollouts[9].tokens[2]'],
    ['id = vocab size', (s) => (r0(s).tokens[39] = r0(s).commit.tokens[39] = V4.model.vocabSize), 'rollouts[0].tokens[39]'],
    ['id 2^60', (s) => (r0(s).tokens[1] = r0(s).commit.tokens[1] = 2 ** 60), 'rollouts[0].tokens[1]'],
    ['L above the max context', (s) => setTokens(s, 0, seq(V4.model.maxContext + 1), V4.model.maxContext + 1 - C), 'rollouts[0].tokens'],
  ] as Case[]],
  [Reason.TOKEN_TAMPERED, [
    ['forced=true', (s) => (s.rollouts[5].commit.rollout.forced = true), 'rollouts[5].commit.rollout.forced'],
    ['a force span on an unforced rollout', (s) => (meta(s).force_span = [P, P + 4]), 'rollouts[0].commit.rollout.force_span'],
  ] as Case[]],
])('%s', (reason, cases) => {
  it.each(cases)('%s', (_name, f, path) => {
    const s = mutated(f);
    expectReject(safely(() => parseSubmission(s, V4)), reason, path);
  });
});

describe('first failure in §8 order wins', () => {
  it.each<[string, (s: J) => void, ReasonCode, string]>([
    ['request schema before any rollout check', (s) => ((s.nonce = 'n'.repeat(200)), (r0(s).tokens[0] += 1)), Reason.BAD_SCHEMA, 'nonce'],
    ['rollout 2 TOKENS_MISMATCH before rollout 5 CommitModel', (s) => ((s.rollouts[2].tokens[0] += 1), (s.rollouts[5].commit.extra = 1)),
      Reason.TOKENS_MISMATCH, 'rollouts[2].tokens[0]'],
    ['CommitModel before TOKENS_MISMATCH within a rollout', (s) => ((s.rollouts[2].tokens[0] += 1), (meta(s, 2).prompt_length = 0)),
      Reason.BAD_SCHEMA, 'rollouts[2].commit.rollout.completion_length'],
    ['TOKENS_MISMATCH before BAD_TOKENS within a rollout', (s) => (s.rollouts[2].tokens[0] = -5), Reason.TOKENS_MISMATCH, 'rollouts[2].tokens[0]'],
    ['force-span preflight only after every rollout passed', (s) => ((meta(s, 0).forced = true), (s.rollouts[9].tokens[1] = s.rollouts[9].commit.tokens[1] = -1)),
      Reason.BAD_TOKENS, 'rollouts[9].tokens[1]'],
  ])('%s', (_name, f, reason, path) => {
    expectReject(safely(() => parseSubmission(mutated(f), V4)), reason, path);
  });
});

describe('messages are actionable', () => {
  it('say what was expected and what was got', () => {
    const msg = (f: (s: J) => void): string | false => ((r) => !r.ok && r.rejection.message)(safely(() => parseSubmission(mutated(f), V4)));
    expect(msg((s) => s.rollouts.pop())).toMatch(/exactly 16 items, got 15 items/);
    expect(msg((s) => (s.nonce = 'n'.repeat(129)))).toMatch(/at most 128 characters.*129/);
    expect(msg((s) => (r0(s).tokens[3] = r0(s).commit.tokens[3] = V4.model.vocabSize))).toContain(`expected 0 <= id < ${V4.model.vocabSize}`);
    expect(msg((s) => (r0(s).commit.proof_version = 'v6'))).toContain('expected "v7", got a 2-character string "v6"');
  });
});

describe('precommit', () => {
  it('accepts the valid fixture and applies defaults', () => {
    const s = validPrecommit();
    delete s.protocol_version;
    const r = safely(() => parsePrecommit(s, V4));
    expect(r.ok && r.value.protocol_version).toBe(0);
  });

  it.each<Case>([
    ['unknown key (no randomness on the wire)', (s) => (s.randomness = '5f'.repeat(32)), 'randomness'],
    ['rollouts do not belong here', (s) => (s.rollouts = []), 'rollouts'],
    ['empty environment', (s) => (s.environment = ''), 'environment'],
    ['environment of 65 chars', (s) => (s.environment = 'e'.repeat(65)), 'environment'],
    ['payload_bytes 0', (s) => (s.payload_bytes = 0), 'payload_bytes'],
    ['payload_bytes above 64 MiB', (s) => (s.payload_bytes = V4.wire.maxPayloadBytes + 1), 'payload_bytes'],
    ['payload_bytes 1.5', (s) => (s.payload_bytes = 1.5), 'payload_bytes'],
    ['payload_sha256 of 63 hex', (s) => (s.payload_sha256 = 'c'.repeat(63)), 'payload_sha256'],
    ['empty nonce', (s) => (s.nonce = ''), 'nonce'],
    ['nonce of 129 chars', (s) => (s.nonce = 'n'.repeat(129)), 'nonce'],
    ['signature of 1 hex char', (s) => (s.precommit_signature = 'a'), 'precommit_signature'],
    ['signature of 257 hex chars', (s) => (s.precommit_signature = 'a'.repeat(257)), 'precommit_signature'],
    ['signature not hex', (s) => (s.precommit_signature = 'zz'), 'precommit_signature'],
    ['drand_round missing (required here)', (s) => delete s.drand_round, 'drand_round'],
  ])('BAD_SCHEMA: %s', (_name, f, path) => {
    expectReject(safely(() => parsePrecommit(mutated(f, validPrecommit), V4)), Reason.BAD_SCHEMA, path);
  });

  it('payload_bytes exactly 64 MiB is accepted', () => {
    expect(safely(() => parsePrecommit(mutated((s) => (s.payload_bytes = V4.wire.maxPayloadBytes), validPrecommit), V4)).ok).toBe(true);
  });
});

describe('JSON bodies', () => {
  it.each([
    ['{"a":1,}', 7], ['{"a":', 5], ['', 0], ['{"a":1} x', 8], ['{"a":NaN}', 5], ['[1,]', 3], ['{"a" 1}', 5], ['{"a":"\u0001"}', 6], ['{"a":"\\x"}', 7], ['01', 1], ['{"a":tru}', 8], ['[nul]', 4], ['[1 2]', 3], ['{,}', 1],
    ['[1.]', 3], ['[-]', 2], ['[1e]', 3], ['[1e+]', 4], [`[${'9'.repeat(1000)}x]`, 1001], ['"\\u12"', 5],
  ])('malformed JSON %j → BAD_SCHEMA naming position %i', (text, pos) => {
    const r = safely(() => parseJsonBody(text, 1024));
    expectReject(r, Reason.BAD_SCHEMA);
    expect(!r.ok && r.rejection.message).toContain(`position ${pos} `);
  });

  it('agrees with the engine wherever the engine reports a position (random corruptions)', () => {
    const base = JSON.stringify(validPrecommit(), null, 1);
    const chars = ['"', '{', '}', '[', ']', ',', ':', 'x', '0', '-', '.', 'e', ' ', '\\', '\n'];
    let compared = 0;
    for (let n = 0; n < 3000; n++) {
      const k = (n * 7919) % base.length;
      const text = base.slice(0, k) + (chars[n % chars.length] as string) + base.slice(k + (n % 3 === 0 ? 0 : 1));
      let engine: number | null = null;
      try {
        JSON.parse(text);
        continue;
      } catch (e) {
        engine = Number(/position (\d+)/.exec((e as Error).message)?.[1] ?? NaN);
      }
      const r = safely(() => parseJsonBody(text, 1 << 20));
      expect(r.ok).toBe(false);
      if (Number.isNaN(engine) || r.ok) continue;
      expect(r.rejection.message).toContain(`position ${engine} `);
      compared++;
    }
    expect(compared).toBeGreaterThan(500);
  });

  it('deeply nested input never throws', () => {
    for (const text of ['['.repeat(200_000), `${'['.repeat(200_000)}${']'.repeat(200_000)}`, `${'{"a":'.repeat(50_000)}1`]) {
      safely(() => parseJsonBody(text, 1 << 22));
    }
    expectReject(safely(() => parseSubmission(JSON.parse(`${'['.repeat(10_000)}${']'.repeat(10_000)}`), V4)), Reason.BAD_SCHEMA);
  });

  it('invalid UTF-8 bytes → BAD_SCHEMA', () => {
    expectReject(safely(() => parseJsonBody(new Uint8Array([0x7b, 0xff, 0x7d]), 1024)), Reason.BAD_SCHEMA);
  });

  it('a body over the cap → BAD_SCHEMA with HTTP 413; at the cap it parses', () => {
    const at = `"${'x'.repeat(98)}"`; // 100 bytes
    expect(safely(() => parseJsonBody(at, 100)).ok).toBe(true);
    for (const body of [`${at} `, `"${'é'.repeat(50)}"`, new TextEncoder().encode(`${at} `)]) {
      const r = safely(() => parseJsonBody(body, 100));
      expectReject(r, Reason.BAD_SCHEMA);
      if (!r.ok) {
        expect(r.rejection.httpStatus).toBe(413);
        expect(httpStatusFor(r.rejection, 'submit')).toBe(413);
      }
    }
  });

  it('uses the profile caps: /submit 64 MiB, precommit 16 KiB', () => {
    expect(safely(() => parseSubmissionBody(JSON.stringify(validSubmission()), V4)).ok).toBe(true);
    expect(safely(() => parsePrecommitBody(new TextEncoder().encode(JSON.stringify(validPrecommit())), V4)).ok).toBe(true);
    const big = JSON.stringify({ ...validPrecommit(), nonce: 'n'.repeat(V4.wire.maxPrecommitBodyBytes) });
    const r = safely(() => parsePrecommitBody(big, V4));
    expect(!r.ok && r.rejection.httpStatus).toBe(413);
  });

  it.each([null, [], 'str', 42, true])('a non-object top level (%j) is BAD_SCHEMA', (raw) => {
    expectReject(safely(() => parseSubmission(raw, V4)), Reason.BAD_SCHEMA);
    expectReject(safely(() => parsePrecommit(raw, V4)), Reason.BAD_SCHEMA);
  });
});

describe('profile-driven limits', () => {
  it('caches one schema set per profile object', () => {
    expect(wireSchemas(V4)).toBe(wireSchemas(V4));
    expect(wireSchemas(DEVNET)).not.toBe(wireSchemas(V4));
  });

  it('DEVNET: its own vocab, min commit tokens and completion cap', () => {
    const dev: Profile = DEVNET;
    const sub = (n: number, id: number, c: number): J =>
      mutated((s) => s.rollouts.forEach((r: J, i: number) => {
        setTokens(s, i, new Array(n).fill(id), n - c);
        r.commit.proof_version = dev.grail.proofVersion; // v8 under proof v2
      }));
    expect(safely(() => parseSubmission(sub(8, 31, 4), dev)).ok).toBe(true);
    expectReject(safely(() => parseSubmission(sub(8, 32, 4), dev)), Reason.BAD_TOKENS, 'rollouts[0].tokens[0]');
    expectReject(safely(() => parseSubmission(sub(dev.wire.minCommitTokens - 1, 1, 2), dev)), Reason.BAD_SCHEMA, 'rollouts[0].commit.tokens');
    expectReject(safely(() => parseSubmission(sub(40, 1, 33), dev)), Reason.BAD_SCHEMA, 'rollouts[0].commit.rollout.completion_length');
  });
});

describe('response and state schemas', () => {
  const S = wireSchemas(V4);
  it('BatchSubmissionResponse takes only known reasons', () => {
    expect(S.BatchSubmissionResponse.safeParse({ accepted: true, reason: 'submitted' }).success).toBe(true);
    expect(S.BatchSubmissionResponse.safeParse({ accepted: false, reason: 'superseded' }).success).toBe(true);
    expect(S.BatchSubmissionResponse.safeParse({ accepted: false, reason: 'nope' }).success).toBe(false);
  });
  it('GrpoBatchState applies defaults and forbids extra keys', () => {
    const st = { state: 'open', window_n: 5, anchor_block: 5, valid_submissions: 0, checkpoint_n: 0 };
    const r = S.GrpoBatchState.safeParse(st);
    expect(r.success && [r.data.randomness, r.data.cooldown_prompts, r.data.generation_contract]).toEqual(['', [], null]);
    expect(S.GrpoBatchState.safeParse({ ...st, extra: 1 }).success).toBe(false);
    expect(S.GrpoBatchState.safeParse({ ...st, state: 'sealed' }).success).toBe(false);
  });
  it('Verdict: nulls optional, lifecycle fields typed', () => {
    const v = { merkle_root: 'ab'.repeat(32), accepted: true, reason: 'accepted', ts: 1.5, selected_for_batch: true, canonical_rank: 3 };
    expect(S.Verdict.safeParse(v).success).toBe(true);
    expect(S.VerdictsResponse.safeParse({ verdicts: [v] }).success).toBe(true);
    expect(S.Verdict.safeParse({ ...v, canonical_rank: 1.5 }).success).toBe(false);
    expect(S.SubmissionPrecommitResponse.safeParse({ accepted: true, reason: 'accepted', receipt_id: 'r', upload_deadline_ts: 1 }).success).toBe(true);
  });
});

describe('reasons', () => {
  const spec = [
    'WINDOW_NOT_ACTIVE', 'BAD_SCHEMA', 'WINDOW_MISMATCH', 'WRONG_CHECKPOINT', 'PROTOCOL_MISMATCH', 'GENERATION_CONTRACT_MISMATCH',
    'BAD_ENVELOPE_SIGNATURE', 'FUTURE_ROUND', 'STALE_ROUND', 'PROMPT_OUT_OF_RANGE', 'PROMPT_IN_COOLDOWN', 'WORKER_DROPPED', 'BAD_PROMPT_IDX',
    'PROMPT_FULL', 'REGISTRATION_UNAVAILABLE', 'HOTKEY_NOT_REGISTERED', 'RATE_LIMITED', 'PRECOMMIT_EXPIRED', 'BATCH_FILLED',
    'PRECOMMIT_REQUIRED', 'PRECOMMIT_INVALID', 'MERKLE_ROOT_MISMATCH', 'TOKENS_MISMATCH', 'BAD_TOKENS', 'BAD_SIGNATURE', 'WRONG_RANDOMNESS',
    'HASH_DUPLICATE', 'BAD_TERMINATION', 'TOKEN_TAMPERED', 'PROMPT_MISMATCH', 'REWARD_MISMATCH', 'OUT_OF_ZONE', 'MALFORMED_FINAL_ANSWER',
    'DISTRIBUTION_SUSPICIOUS', 'GRAIL_FAIL', 'LOGPROB_MISMATCH', 'BOXED_ANSWER_TAMPERED', 'SEED_MISMATCH', 'SUBMITTED', 'ACCEPTED',
    'WRONG_ROLLOUT_COUNT', 'REWARD_DISTRIBUTION', 'PROOF_CAPACITY_ABORT', 'SUPERSEDED', 'REWARD_SHAPE_SUSPICIOUS',
  ];
  it('covers every reason of protocol §8 and market §2, wire value = lowercase name', () => {
    for (const name of spec) expect((Reason as Record<string, string>)[name]).toBe(name.toLowerCase());
    expect(REASON_CODES).toHaveLength(spec.length);
  });
  it('has one message per reason, and a parser', () => {
    for (const c of REASON_CODES) expect(REASON_MESSAGES[c].length).toBeGreaterThan(20);
    expect(['bad_schema', 'BAD_SCHEMA', 3, 'toString', 'submitted'].map(isReasonCode)).toEqual([true, false, false, false, true]);
  });
  it('high-risk and legacy sets', () => {
    expect([...HIGH_RISK_REASONS].sort()).toEqual(['bad_termination', 'distribution_suspicious', 'reward_distribution', 'reward_mismatch', 'tokens_mismatch']);
    expect([...LEGACY_REASONS].sort()).toEqual(['proof_capacity_abort', 'reward_distribution', 'reward_shape_suspicious', 'superseded', 'wrong_rollout_count']);
  });
  it('HTTP status: 409 only for a direct /submit window mismatch, otherwise 200', () => {
    expect(httpStatusFor(Reason.WINDOW_MISMATCH, 'direct-submit')).toBe(409);
    expect(httpStatusFor(Reason.WINDOW_MISMATCH, 'precommit')).toBe(200);
    expect(httpStatusFor(reject(Reason.BAD_SIGNATURE), 'direct-submit')).toBe(200);
  });
  it('reject() formats path, detail and advice', () => {
    const r = reject(Reason.BAD_TOKENS, 'token id -1', 'rollouts[0].tokens[2]');
    expect(r).toMatchObject({ reason: 'bad_tokens', path: 'rollouts[0].tokens[2]' });
    expect(r.message.startsWith('rollouts[0].tokens[2]: token id -1. ')).toBe(true);
    expect(reject(Reason.RATE_LIMITED).path).toBeUndefined();
  });
});

describe('mutation fuzz', () => {
  /** mulberry32: a small deterministic PRNG. */
  let a = 0xc0ffee;
  const rand = (): number => {
    let t = (a = (a + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const randomJson = (depth = 0): unknown =>
    pick<() => unknown>([
      () => null, () => rand() < 0.5, () => Math.floor(rand() * 2 ** 20) - 2 ** 19, () => rand() * 1e6 - 5e5, () => 2 ** 64,
      () => -0, () => '', () => 'x'.repeat(Math.floor(rand() * 300)), () => 'ab'.repeat(32), () => '__proto__', () => 1.0,
      () => (depth > 2 ? [] : Array.from({ length: Math.floor(rand() * 4) }, () => randomJson(depth + 1))),
      () => (depth > 2 ? {} : { [pick(['sketch', 'tokens', '__proto__', 'constructor', 'k'])]: randomJson(depth + 1) }),
    ])();
  const allowed = new Set<string>([Reason.BAD_SCHEMA, Reason.TOKENS_MISMATCH, Reason.BAD_TOKENS, Reason.TOKEN_TAMPERED]);

  it('2000 random mutations never throw and give ok or a known structural reason', () => {
    const seen = new Map<string, number>();
    for (let n = 0; n < 2000; n++) {
      const s = validSubmission();
      // Walk down to a random container.
      let node: J = s;
      for (let d = 0; d < 8 && rand() < 0.8; d++) {
        const keys = Object.keys(node).filter((k) => typeof node[k] === 'object' && node[k] !== null);
        if (!keys.length) break;
        node = node[pick(keys)];
      }
      const keys = Object.keys(node);
      const key = keys.length ? pick(keys) : '0';
      const op = rand();
      if (op < 0.3) Array.isArray(node) ? node.splice(Number(key), 1) : delete node[key];
      else if (op < 0.85) node[key] = randomJson();
      else node[pick(['extra', '__proto__', 'toString', key])] = randomJson();
      const viaText = n % 2 === 0;
      const r = safely(() => (viaText ? parseSubmissionBody(JSON.stringify(s) ?? '', V4) : parseSubmission(s, V4)));
      const code = r.ok ? 'ok' : r.rejection.reason;
      if (!r.ok) {
        expect(isReasonCode(r.rejection.reason)).toBe(true);
        expect(allowed.has(r.rejection.reason)).toBe(true);
        expect(typeof r.rejection.message).toBe('string');
      }
      seen.set(code, (seen.get(code) ?? 0) + 1);
    }
    expect(seen.get(Reason.BAD_SCHEMA) ?? 0).toBeGreaterThan(500);
    expect(seen.get('ok') ?? 0).toBeGreaterThan(0);
  });

  it('precommit mutations never throw either', () => {
    for (let n = 0; n < 500; n++) {
      const s = validPrecommit();
      const key = pick(Object.keys(s));
      if (rand() < 0.3) delete s[key];
      else s[rand() < 0.8 ? key : 'extra'] = randomJson();
      const r = safely(() => parsePrecommit(s, V4));
      expect(r.ok || r.rejection.reason === Reason.BAD_SCHEMA).toBe(true);
    }
  });
});
