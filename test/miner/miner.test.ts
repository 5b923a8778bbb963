/**
 * The miner loop (core/miner/miner.ts) against a scripted Transport: waiting for a window, mining an OPEN one
 * (precommit then the exact bytes), re-finalising on STALE_ROUND with a new nonce and signature, the drand round
 * guard, answers that end the window, the contract gate that stops the miner, the checkpoint hook, cooldowns of
 * every environment in the selector context, local skips, and verdicts flowing to the selector and the stats.
 */
import { describe, expect, it } from 'vitest';
import type { Environment } from '../../core/interfaces/environment.ts';
import { createMiner, MinerStopError, type MinerDeps, type MinerEvent, type MinerOptions, type WindowCheck } from '../../core/miner/miner.ts';
import { generationContract, type Profile } from '../../core/profile/index.ts';
import { authenticateSubmission, requestPrecommitDigest } from '../../core/protocol/admission.ts';
import { hex } from '../../core/protocol/codec.ts';
import { sha256 } from '../../core/protocol/hash.ts';
import { drandRound, drandRoundTime } from '../../core/protocol/randomness.ts';
import { Reason } from '../../core/protocol/reasons.ts';
import { verifySignature } from '../../core/protocol/sr25519.ts';
import { parseJsonBody, type SubmissionPrecommitRequest, type Verdict } from '../../core/protocol/wire.ts';
import { envArith } from '../../plugins/env-arith/index.ts';
import {
  ARITH, PROFILE, RANDOMNESS, TOKENIZER, WINDOW, counterRandom, defaultPlan, fakeClock, openState, plainText, recordingSelector,
  scriptedGenerator, scriptedTransport, signer,
} from './helpers.ts';

type Script = Parameters<typeof scriptedTransport>[0];

function setup(script: Script = {}, options: Partial<MinerOptions> = {}, extra: Partial<MinerDeps> & { profile?: Profile } = {}) {
  const clock = fakeClock();
  const { transport, calls } = scriptedTransport(script);
  const sel = recordingSelector();
  const events: MinerEvent[] = [];
  const generated: Parameters<MinerDeps['generate']>[0][] = [];
  const miner = createMiner({
    profile: PROFILE, transport, signer, selector: sel.selector, environments: [ARITH], tokenizer: TOKENIZER,
    generate: scriptedGenerator(defaultPlan, generated), clock: clock.clock, sleep: clock.sleep, random: counterRandom(),
    onEvent: (e) => void events.push(e), ...extra,
  }, { groupsPerWindow: 2, gradingText: plainText, ...options });
  return { miner, clock, calls, sel, events, generated };
}

const stale = (n: number) => ({ accepted: false, reason: Reason.STALE_ROUND, receipt_id: null, upload_deadline_ts: null, n });

describe('miner loop', () => {
  it('waits while no window is installed, the window is not open or has no randomness', async () => {
    const { miner, clock, calls } = setup({ states: [null, openState(PROFILE, { state: 'ready' }), openState(PROFILE, { randomness: '' }), openState()] });
    expect(await miner.tick()).toEqual({ kind: 'no_window' });
    expect(await miner.tick()).toMatchObject({ kind: 'waiting', why: 'not_open' });
    expect(await miner.tick()).toMatchObject({ kind: 'waiting', why: 'no_randomness' });
    expect(calls.precommit).toHaveLength(0);
    const r = await miner.tick();
    expect(r.kind).toBe('mined');
    expect(await miner.tick()).toMatchObject({ kind: 'waiting', why: 'already_mined' });
    expect(clock.sleeps).toEqual([]);
  });

  it('checks a window before mining it: null asks again, a refusal is an event and skips the window for good, a pass mines', async () => {
    const answers: (WindowCheck | null)[] = [null, { ok: false, reason: 'bad_signature', message: 'window 7: forged beacon' }];
    const asked: number[] = [];
    const next = openState(PROFILE, { window_n: WINDOW + 1, anchor_block: WINDOW + 1 });
    const { miner, calls, events } = setup({ states: [openState(), openState(), openState(), next] }, {}, {
      checkWindow: async (s) => {
        asked.push(s.window_n);
        return answers.length ? answers.shift()! : { ok: true };
      },
    });
    expect(await miner.tick()).toMatchObject({ kind: 'waiting', window: WINDOW, why: 'window_changed' });
    expect(await miner.tick()).toMatchObject({ kind: 'waiting', window: WINDOW, why: 'refused' });
    expect(events.filter((e) => e.kind === 'window_refused')).toEqual([{ kind: 'window_refused', window: WINDOW, reason: 'bad_signature', message: 'window 7: forged beacon' }]);
    expect(await miner.tick()).toMatchObject({ kind: 'waiting', window: WINDOW, why: 'refused' }); // not asked again
    expect(calls.precommit).toHaveLength(0);
    expect(miner.windowStats(WINDOW)).toBeUndefined();
    expect(await miner.tick()).toMatchObject({ kind: 'mined', stats: { window: WINDOW + 1 } });
    expect(asked).toEqual([WINDOW, WINDOW, WINDOW + 1]);
  });

  it('runWindow polls every pollSeconds until a window is mined', async () => {
    const { miner, clock } = setup({ states: [null, null, openState()] }, { pollSeconds: 3 }); // one drand period: same phase
    const stats = await miner.runWindow();
    expect(stats).toMatchObject({ window: WINDOW, picked: 2, submitted: 2 });
    expect(clock.sleeps).toEqual([3, 3]);
  });

  it('mines an OPEN window: precommit, then exactly the committed bytes with the receipt', async () => {
    const { miner, calls, generated } = setup();
    const r = await miner.tick();
    expect(r.kind === 'mined' && r.stats).toMatchObject({ window: WINDOW, picked: 2, submitted: 2, rejected: {}, skipped: {}, staleRetries: 0 });
    expect(generated.map((g) => [g.env.name, g.stream.promptIdx, g.rollouts, g.stream.randomness])).toEqual([['arith', 100, 16, RANDOMNESS], ['arith', 101, 16, RANDOMNESS]]);
    expect(calls.precommit).toHaveLength(2);
    calls.submit.forEach(({ receiptId, bytes }, i) => {
      const p = calls.precommit[i]!;
      expect(receiptId).toBe(`r-${i + 1}`);
      expect(bytes.length).toBe(p.payload_bytes);
      expect(hex(sha256(bytes))).toBe(p.payload_sha256);
      expect(verifySignature(requestPrecommitDigest(p, RANDOMNESS, PROFILE), p.precommit_signature, signer.ss58)).toBe(true);
      const parsed = parseJsonBody(bytes, PROFILE.wire.maxPayloadBytes);
      const auth = parsed.ok ? authenticateSubmission(parsed.value, { profile: PROFILE, randomness: RANDOMNESS }) : parsed;
      expect(auth.ok ? 'ok' : auth.rejection).toBe('ok');
      expect(p.drand_round).toBe(drandRound(fakeClock().now, PROFILE.drand));
    });
  });

  it('re-finalises on STALE_ROUND with a new nonce and signature, then reveals the bytes of the accepted precommit', async () => {
    const { miner, calls } = setup({ precommit: (_req, n) => (n === 1 ? stale(n) : { accepted: true, reason: 'submitted', receipt_id: `r-${n}`, upload_deadline_ts: 1e12 }) }, { groupsPerWindow: 1 });
    const r = await miner.tick();
    expect(r.kind === 'mined' && r.stats).toMatchObject({ submitted: 1, staleRetries: 1, rejected: {} });
    const [first, second] = calls.precommit;
    expect(calls.precommit).toHaveLength(2);
    expect(second!.nonce).not.toBe(first!.nonce);
    expect(second!.precommit_signature).not.toBe(first!.precommit_signature);
    expect(second!.merkle_root).toBe(first!.merkle_root);
    for (const p of [first!, second!]) expect(verifySignature(requestPrecommitDigest(p, RANDOMNESS, PROFILE), p.precommit_signature, signer.ss58)).toBe(true);
    expect(calls.submit).toHaveLength(1);
    expect(calls.submit[0]!.receiptId).toBe('r-2');
    expect(hex(sha256(calls.submit[0]!.bytes))).toBe(second!.payload_sha256);
    const body = JSON.parse(new TextDecoder().decode(calls.submit[0]!.bytes)) as { nonce: string };
    expect(body.nonce).toBe(second!.nonce);
  });

  it('gives up after finaliseAttempts STALE_ROUND answers and records the reject', async () => {
    const { miner, calls } = setup({ precommit: (_r, n) => stale(n) }, { groupsPerWindow: 2, finaliseAttempts: 3 });
    const r = await miner.tick();
    expect(calls.precommit).toHaveLength(6);
    expect(calls.submit).toHaveLength(0);
    expect(r.kind === 'mined' && r.stats).toMatchObject({ submitted: 0, rejected: { stale_round: 2 }, staleRetries: 4 });
  });

  it('never signs in the last second of a round: sleeps past the boundary first', async () => {
    const { miner, clock, calls } = setup({}, { groupsPerWindow: 1 });
    const boundary = drandRoundTime(1_000_001, PROFILE.drand);
    clock.now = boundary - 0.4;
    await miner.tick();
    expect(clock.sleeps).toHaveLength(1);
    expect(clock.sleeps[0]).toBeCloseTo(0.45, 5);
    expect(calls.precommit[0]!.drand_round).toBe(1_000_001);
  });

  it.each([Reason.RATE_LIMITED, Reason.PRECOMMIT_EXPIRED, Reason.WINDOW_NOT_ACTIVE, Reason.WRONG_CHECKPOINT])('stops the window on %s', async (reason) => {
    const { miner, calls } = setup({ precommit: (_r, n) => (n === 2 ? { accepted: false, reason, receipt_id: null, upload_deadline_ts: null } : { accepted: true, reason: 'submitted', receipt_id: `r-${n}`, upload_deadline_ts: 1e12 }) }, { groupsPerWindow: 4 });
    const r = await miner.tick();
    expect(calls.precommit).toHaveLength(2);
    expect(r.kind === 'mined' && r.stats).toMatchObject({ picked: 4, submitted: 1, rejected: { [reason]: 1 } });
  });

  it('records a refused reveal under its reason', async () => {
    const { miner } = setup({ submit: () => ({ accepted: false, reason: Reason.PRECOMMIT_INVALID }) }, { groupsPerWindow: 1 });
    const r = await miner.tick();
    expect(r.kind === 'mined' && r.stats).toMatchObject({ submitted: 0, rejected: { precommit_invalid: 1 } });
  });

  const mismatches: [string, Parameters<typeof openState>[1], string][] = [
    ['generation contract', { generation_contract: { ...generationContract(PROFILE), collection_seconds: 99 } }, 'generation_contract_mismatch'],
    ['missing contract', { generation_contract: null }, 'generation_contract_mismatch'],
    ['profile id', { generation_profile_id: 'qwen3-4b-base-dapo-v4' }, 'generation_contract_mismatch'],
    ['protocol version', { protocol_version: 3 }, 'protocol_mismatch'],
  ];
  it.each(mismatches)('stops with a MinerStopError on a %s mismatch, before generating anything', async (_what, over, reason) => {
    const { miner, calls, generated } = setup({ states: [openState(PROFILE, over)] });
    const err = await miner.tick().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MinerStopError);
    expect((err as MinerStopError).reason).toBe(reason);
    await expect(miner.runWindow()).rejects.toBe(err);
    expect(generated).toHaveLength(0);
    expect(calls.precommit).toHaveLength(0);
  });

  it('stops when a precommit answers GENERATION_CONTRACT_MISMATCH', async () => {
    const { miner, calls } = setup({ precommit: () => ({ accepted: false, reason: Reason.GENERATION_CONTRACT_MISMATCH, receipt_id: null, upload_deadline_ts: null }) });
    await expect(miner.tick()).rejects.toBeInstanceOf(MinerStopError);
    expect(calls.precommit).toHaveLength(1);
  });

  it('raises checkpoint (awaited) before generating on a higher checkpoint_n, and tells the selector', async () => {
    const order: string[] = [];
    const state = openState(PROFILE, { checkpoint_n: 3, checkpoint_revision: 'c'.repeat(40), checkpoint_repo_id: 'local/devnet' });
    const { miner, sel, generated, calls } = setup({ states: [state] }, { groupsPerWindow: 1 }, {
      onEvent: async (e) => {
        if (e.kind === 'checkpoint') {
          await Promise.resolve();
          order.push(`reload ${e.previous}→${e.checkpointN} ${e.revision}`);
        }
      },
      generate: async (req) => (order.push('generate'), scriptedGenerator()(req)),
    });
    await miner.tick();
    expect(order).toEqual([`reload 0→3 ${'c'.repeat(40)}`, 'generate']);
    expect(miner.checkpoint).toBe(3);
    expect(sel.events.filter((e) => e.kind === 'checkpoint')).toEqual([{ kind: 'checkpoint', checkpointN: 3 }]);
    expect(generated).toHaveLength(0); // the custom generate replaced the recording one
    expect(calls.precommit[0]!.checkpoint_hash).toBe('c'.repeat(40));
  });

  it('builds the selector context from every environment’s cooldowns, capped by the quota', async () => {
    const arith2: Environment = { ...envArith({ name: 'arith2', seed: 'other' }) };
    const profile: Profile = { ...PROFILE, environments: { ...PROFILE.environments, arith2: PROFILE.environments['arith']! }, environmentMix: [['arith', 4], ['arith2', 4]] };
    const state = openState(profile);
    const { miner, sel, calls } = setup({ states: [state], stateFor: (env) => ({ ...state, cooldown_prompts: env === 'arith2' ? [9] : [1, 2] }) }, { groupsPerWindow: 1000 }, { profile, environments: [ARITH, arith2] });
    await miner.tick();
    const ctx = sel.contexts[0]!;
    expect(ctx.state).toEqual({ window: WINDOW, randomness: RANDOMNESS, checkpointN: 0, cooldowns: { arith: [1, 2], arith2: [9] } });
    expect(ctx.count).toBe(profile.quotas.precommitsPerHotkey);
    expect(ctx.mix).toEqual(profile.environmentMix);
    expect(calls.state).toEqual([undefined, 'arith2']);
  });

  it('skips a group the validator would certainly reject, without spending a precommit', async () => {
    const plan = (r: Parameters<typeof defaultPlan>[0]) => defaultPlan(r).map((x, m) => ({ ...x, truncated: m < 2 }));
    const { miner, calls } = setup({}, { groupsPerWindow: 1 }, { generate: scriptedGenerator(plan) });
    const r = await miner.tick();
    expect(calls.precommit).toHaveLength(0);
    expect(r.kind === 'mined' && r.stats).toMatchObject({ submitted: 0, skipped: { bad_termination: 1 } });
  });

  it('feeds verdicts (since the last one) to the selector and folds them into the window stats', async () => {
    let served: Verdict[] = [];
    const { miner, calls, sel, events } = setup({ verdicts: (since) => served.filter((v) => v.ts > since) });
    await miner.tick();
    const roots = calls.precommit.map((p) => p.merkle_root);
    served = [
      { merkle_root: roots[0]!, window_n: WINDOW, accepted: true, reason: 'submitted', ts: 10 },
      { merkle_root: roots[1]!, window_n: WINDOW, accepted: true, reason: 'submitted', ts: 11 },
      { merkle_root: roots[0]!, window_n: WINDOW, accepted: true, reason: 'accepted', ts: 12, accepted_into_pool: true },
      { merkle_root: roots[1]!, window_n: WINDOW, accepted: false, reason: 'out_of_zone', ts: 13 },
    ];
    await miner.tick();
    expect(miner.windowStats(WINDOW)).toMatchObject({ submitted: 2, accepted: 1, rewarded: 0, rejected: { out_of_zone: 1 } });
    served.push({ merkle_root: roots[0]!, window_n: WINDOW, accepted: true, reason: 'accepted', ts: 20, accepted_into_pool: true, selected_for_batch: true, rewarded: true, canonical_rank: 0 });
    await miner.tick();
    expect(miner.windowStats(WINDOW)).toMatchObject({ accepted: 1, rewarded: 1 });
    expect(calls.verdicts.slice(-2)).toEqual([0, 13]);
    expect(sel.events.filter((e) => e.kind === 'verdict').map((e) => e.kind === 'verdict' && e.verdict.ts)).toEqual([10, 11, 12, 13, 20]);
    expect(sel.events.filter((e) => e.kind === 'submitted').map((e) => e.kind === 'submitted' && [e.promptIdx, e.rewards.filter((x) => x === 1).length])).toEqual([[100, 4], [101, 4]]);
    expect(events.filter((e) => e.kind === 'verdict')).toHaveLength(5);
    expect(sel.contexts).toHaveLength(1);
  });

  it('reports a transport failure of one group as an error and goes on with the next', async () => {
    const { TransportError } = await import('../../core/interfaces/transport.ts');
    const { miner, calls, events } = setup({ precommit: (_r, n) => { if (n === 1) throw new TransportError('network', 'POST /submit/precommit', 'refused'); return { accepted: true, reason: 'submitted', receipt_id: 'r', upload_deadline_ts: 1e12 }; } });
    const r = await miner.tick();
    expect(calls.precommit).toHaveLength(2);
    expect(r.kind === 'mined' && r.stats).toMatchObject({ submitted: 1, errors: { network: 1 } });
    expect(events.some((e) => e.kind === 'error')).toBe(true);
  });
});
