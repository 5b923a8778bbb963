/** The archive's training-batch format: round trip, the environments it feeds the step, and every refusal. */
import { describe, expect, it } from 'vitest';
import { DEVNET, V4 } from '../../core/profile/index.ts';
import {
  BATCH_FORMAT, BatchFileError, batchEnvironments, encodeBatchFile, parseBatchFile, type BatchFileReason, type TrainBatch,
} from '../../core/training/batch-file.ts';

function sample(): Record<string, unknown> {
  return {
    format: BATCH_FORMAT,
    profile_id: V4.id,
    window: 41,
    checkpoint_revision: 'abc123',
    groups: [
      { env: 'opencodeinstruct', prompt_idx: 3, rollouts: [
        { tokens: [5, 6, 7, 8], prompt_length: 2, reward: 0.5, pi_old: [-0.25, -1.5] },
        { tokens: [5, 6, 9], prompt_length: 2, reward: 0, pi_old: null },
      ] },
      { env: 'openmathinstruct', prompt_idx: 9, hotkey: '5F…', rollouts: [
        { tokens: [1, 2, 3], prompt_length: 1, reward: 1, pi_old: [-0.1, Math.fround(-0.3)], completion_length: 2 },
        { tokens: [1, 2, 4, 4], prompt_length: 1, reward: 0 },
      ] },
    ],
  };
}

describe('batch file: parse, encode, environments', () => {
  it('parses every field and round-trips exactly through encodeBatchFile', () => {
    const b = parseBatchFile(sample(), { profile: V4, vocabSize: 10 });
    expect(b).toMatchObject({ profileId: V4.id, window: 41, checkpointRevision: 'abc123' });
    expect(b.groups[1]).toMatchObject({ env: 'openmathinstruct', promptIdx: 9, hotkey: '5F…' });
    const r = b.groups[0]!.rollouts[0]!;
    expect(Array.from(r.tokens)).toEqual([5, 6, 7, 8]);
    expect(Array.from(r.piOld!)).toEqual([-0.25, -1.5]);
    expect(b.groups[0]!.rollouts[1]!.piOld).toBeNull();
    expect(b.groups[1]!.rollouts[1]!.piOld).toBeNull();
    const again: TrainBatch = parseBatchFile(JSON.parse(encodeBatchFile(b)), { profile: V4 });
    expect(again).toEqual(b);
    expect(again.groups[1]!.rollouts[0]!.piOld![1]).toBe(Math.fround(-0.3));
  });

  it('feeds the step the profile\'s environment order and caps, π_old null where absent', () => {
    const envs = batchEnvironments(parseBatchFile(sample(), { profile: V4 }), V4);
    expect(envs.map((e) => [e.name, e.maxNewTokens, e.groups.length])).toEqual([
      ['openmathinstruct', 8192, 1], ['opencodeinstruct', 8192, 1],
    ]);
    expect(envs[0]!.groups[0]![1]).toMatchObject({ promptLen: 1, reward: 0, logpOld: null });
    expect(() => batchEnvironments(parseBatchFile(sample()), DEVNET)).toThrow(/"opencodeinstruct" is not an environment of profile reliquary-devnet-v2/);
  });

  it('optional fields may be absent', () => {
    const s = sample();
    delete s.profile_id;
    delete s.window;
    delete s.checkpoint_revision;
    expect(parseBatchFile(s)).toMatchObject({ profileId: null, window: null, checkpointRevision: null });
  });
});

type Edit = (s: Record<string, any>) => unknown;

describe('batch file: refusals carry a reason and the JSON path', () => {
  it.each<[string, Edit, BatchFileReason, RegExp]>([
    ['not an object', () => [1, 2], 'not_an_object', /^\$: expected an object/],
    ['wrong format', (s) => ({ ...s, format: 'v0' }), 'bad_format', /^\$\.format: is "v0", expected "reliquary-grpo-batch\/v1"/],
    ['mistyped key', (s) => (s.groups[0].rollouts[0].piold = [], s), 'unknown_key', /^\$\.groups\[0\]\.rollouts\[0\]\.piold: unknown key \(allowed: tokens, prompt_length, reward, pi_old, completion_length\)/],
    ['other profile', (s) => ({ ...s, profile_id: DEVNET.id }), 'profile_mismatch', /the batch is for profile "reliquary-devnet-v2", the trainer runs "qwen3-4b-base-dapo-v4"/],
    ['unknown env', (s) => (s.groups[1].env = 'arith', s), 'unknown_env', /^\$\.groups\[1\]\.env: "arith" is not an environment of profile/],
    ['no groups', (s) => ({ ...s, groups: [] }), 'empty', /^\$\.groups: must be a non-empty array/],
    ['empty group', (s) => (s.groups[0].rollouts = [], s), 'empty', /^\$\.groups\[0\]\.rollouts: must be a non-empty array/],
    ['bad prompt_idx', (s) => (s.groups[0].prompt_idx = -1, s), 'bad_field', /^\$\.groups\[0\]\.prompt_idx: must be an integer ≥ 0, got -1/],
    ['bad window', (s) => ({ ...s, window: 1.5 }), 'bad_field', /^\$\.window: must be an integer ≥ 0, got 1.5/],
    ['token outside the vocabulary', (s) => (s.groups[0].rollouts[1].tokens[2] = 10, s), 'bad_tokens', /^\$\.groups\[0\]\.rollouts\[1\]\.tokens\[2\]: token 10 is outside the vocabulary \[0, 10\)/],
    ['token not an id', (s) => (s.groups[0].rollouts[1].tokens[0] = 'a', s), 'bad_tokens', /tokens\[0\]: "a" is not a token id/],
    ['no completion', (s) => (s.groups[0].rollouts[0].prompt_length = 4, s), 'bad_prompt_length', /prompt_length: must be an integer in \[1, 3\]/],
    ['no prompt', (s) => (s.groups[0].rollouts[0].prompt_length = 0, s), 'bad_prompt_length', /prompt_length: must be an integer in \[1, 3\]/],
    ['completion_length disagrees', (s) => (s.groups[1].rollouts[0].completion_length = 3, s), 'bad_prompt_length', /completion_length: is 3, but tokens − prompt_length = 2/],
    ['reward a string', (s) => (s.groups[0].rollouts[0].reward = '1', s), 'bad_reward', /reward: must be a finite number, got "1"/],
    ['pi_old full-length', (s) => (s.groups[0].rollouts[0].pi_old = [0, -1, -1, -1], s), 'bad_pi_old', /pi_old: has 4 values for 2 completion tokens \(completion-only/],
    ['pi_old positive', (s) => (s.groups[0].rollouts[0].pi_old = [-1, 0.5], s), 'bad_pi_old', /pi_old\[1\]: 0.5 is not a finite log-probability ≤ 0/],
    ['pi_old not an array', (s) => (s.groups[0].rollouts[0].pi_old = -1, s), 'bad_pi_old', /pi_old: must be an array of log-probabilities or null/],
  ])('%s', (_, edit, reason, message) => {
    const s = sample();
    const json = edit(s) ?? s;
    let caught: unknown;
    try {
      parseBatchFile(json, { profile: V4, vocabSize: 10 });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(BatchFileError);
    expect((caught as BatchFileError).reason).toBe(reason);
    expect((caught as BatchFileError).message).toMatch(message);
  });
});
