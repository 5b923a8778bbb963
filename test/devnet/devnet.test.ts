/**
 * The local devnet end to end (issue 7, deliverable 4): a real validator on 127.0.0.1 and miners on the embedded
 * tiny model over HTTP, on the wasm backend, with short windows. Plus a validator killed mid-window (after groups were
 * accepted) and restarted: the window resumes from its journal and seals with those groups, exactly one archive per
 * activated window, and the prompts that won before the kill stay cooled. And the env-arith grading text fix.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { archiveKey, archiveToEma, verifyArchive, type WindowArchive } from '../../core/market/archive.ts';
import { replayEma, weightsFromEma } from '../../core/market/weights.ts';
import { uidMap } from '../../core/interfaces/chain.ts';
import { isContentCooling, isIndexCooling } from '../../core/market/cooldown.ts';
import { hex, utf8 } from '../../core/protocol/codec.ts';
import { sha256 } from '../../core/protocol/hash.ts';
import { Reason } from '../../core/protocol/reasons.ts';
import { signerFromSeed } from '../../core/protocol/sr25519.ts';
import { DEVNET } from '../../core/profile/index.ts';
import { DEVNET_CHAR_TOKENIZER } from '../../core/tokenizer/char.ts';
import { fastDevnetProfile, runDevnet } from '../../hosts/node/devnet/devnet.ts';
import { formatReport } from '../../hosts/node/devnet/report.ts';
import { startMiner, type MinerHost } from '../../hosts/node/devnet/miner-host.ts';
import { HELD_OUT_EVAL, startValidator, type WindowReport } from '../../hosts/node/devnet/validator-host.ts';
import { chainLocal } from '../../plugins/chain-local/index.ts';
import { storeFs } from '../../plugins/store-fs/index.ts';
import { arithAnswerText, envArith } from '../../plugins/env-arith/index.ts';

const MODEL = resolve('models/tiny-arith');
const dirs: string[] = [];
const tempDir = async (): Promise<string> => {
  const d = await mkdtemp(join(tmpdir(), 'reliquary-devnet-'));
  dirs.push(d);
  return d;
};
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const promptDigest = (env: ReturnType<typeof envArith>, idx: number): string => hex(sha256(utf8(env.getProblem(idx).prompt)));

async function archives(dataDir: string, hotkey: string): Promise<Map<number, WindowArchive>> {
  const { storeFs } = await import('../../plugins/store-fs/index.ts');
  const store = storeFs({ dir: join(dataDir, 'store'), fsync: false });
  const prefix = archiveKey(hotkey, 0).replace(/window-0\.json$/, '');
  const out = new Map<number, WindowArchive>();
  for (const k of await store.list(prefix)) {
    const a = JSON.parse(new TextDecoder().decode((await store.get(k))!)) as WindowArchive;
    out.set(a.window_start, a);
  }
  return out;
}

describe('env-arith grades the spec text (decode with special tokens kept)', () => {
  it('strips one trailing EOS text, so a terminated right answer scores 1 for miner and validator alike', () => {
    const env = envArith();
    const p = env.getProblem(3);
    const text = DEVNET_CHAR_TOKENIZER.decode([...DEVNET_CHAR_TOKENIZER.encode(p.groundTruth), 1]);
    expect(text).toBe(`${p.groundTruth}<|endoftext|>`);
    expect(env.computeReward(p, text)).toBe(1);
    expect(env.computeReward(p, `${p.groundTruth}<|endoftext|><|endoftext|>`)).toBe(0);
    expect(arithAnswerText(' 12 <|endoftext|>')).toBe('12');
    expect(arithAnswerText('1<|endoftext|>2')).toBe('1<|endoftext|>2');
  });
});

describe('reliquary devnet', () => {
  it('runs 2 windows with 2 miners over HTTP: sealed windows, winners paid, one signed archive per window', async () => {
    const dataDir = await tempDir();
    const report = await runDevnet({ windows: 2, miners: 2, dataDir, modelDir: MODEL, fresh: true, profile: fastDevnetProfile(6) });
    expect(report.windows).toHaveLength(2);
    expect(report.totals.sealed).toBeGreaterThanOrEqual(1);
    expect(report.miners.map((m) => m.selector)).toEqual(['frontier', 'uniform']);
    expect(report.miners.reduce((a, m) => a + m.submitted, 0)).toBeGreaterThan(0);
    for (const w of report.windows) {
      expect(w.transitions.map((t) => t.phase)).toEqual(w.status === 'completed' ? ['open', 'training', 'publishing', 'ready'] : expect.arrayContaining(['open', 'ready']));
      const paid = Object.values(w.payouts).reduce((a, b) => a + b, 0);
      expect(paid + w.burned).toBeCloseTo(1, 9);
    }
    const got = await archives(dataDir, report.validator);
    expect([...got.keys()].sort()).toEqual(report.windows.map((w) => w.window));
    for (const a of got.values()) expect(verifyArchive(a, report.validator)).toEqual({ ok: true });
    const text = formatReport(report);
    expect(text).toContain('window 0');
    expect(text).toContain('in-zone share');

    // held-out pass@1 before/after (fixed eval on env-arith's held-out split), in the object and the text
    for (const e of [report.heldOut.before, report.heldOut.after]) {
      expect(e.problems).toBe(HELD_OUT_EVAL.problems);
      expect(e.passAt1).toBeGreaterThanOrEqual(0);
      expect(e.passAt1).toBeLessThanOrEqual(1);
      expect(e.passAt1).toBeCloseTo(e.correct / e.problems, 12);
    }
    expect(report.heldOut.before.trainStep).toBe(0);
    expect(report.heldOut.delta).toBeCloseTo(report.heldOut.after.passAt1 - report.heldOut.before.passAt1, 3);
    expect(text).toMatch(/held-out pass@1[\s\S]*before\s+\d\.\d{3}[\s\S]*after\s+\d\.\d{3}/);
    const json = JSON.parse(JSON.stringify(report)) as typeof report;
    expect(json.heldOut.before.passAt1).toBe(report.heldOut.before.passAt1);

    // market §6 weights on the local chain: one setWeights per sealed window, each summing to 1, burn at the validator's uid
    const store = storeFs({ dir: join(dataDir, 'store'), fsync: false });
    const chain = chainLocal({ store });
    const snap = await chain.registry();
    const validatorUid = snap.neurons.find((n) => n.hotkey === report.validator)!.uid;
    const history = await chain.weights();
    expect(history).toHaveLength(report.totals.sealed);
    expect(report.windows.filter((w) => w.weights).length).toBe(report.totals.sealed);
    for (const rec of history) {
      expect(rec.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
      expect(rec.uids).toContain(validatorUid);
      expect([...rec.uids]).toEqual([...rec.uids].sort((a, b) => a - b));
    }
    const last = history[history.length - 1]!;
    expect(report.chainWeights).not.toBeNull();
    expect(report.chainWeights!.burnUid).toBe(validatorUid);
    expect(report.chainWeights!.uids).toEqual(last.uids);
    expect(report.chainWeights!.weights).toEqual(last.weights);
    // the EMA of the archives, recomputed here, is what the chain holds
    const ema = replayEma([...got.values()].map(archiveToEma), DEVNET.weights);
    const expected = weightsFromEma(ema, uidMap(snap), validatorUid);
    expect(last.uids).toEqual(expected.uids);
    for (const [k, w] of expected.weights.entries()) expect(last.weights[k]).toBeCloseTo(w, 12);
    for (const m of report.miners) {
      // a miner is in the weight vector (and so has a uid in the report) only once it was paid
      const paid = report.windows.some((w) => (w.payouts[m.hotkey] ?? 0) > 0);
      expect(m.uid).toBe(paid ? snap.neurons.find((n) => n.hotkey === m.hotkey)!.uid : null);
      if (paid) expect(m.weight).toBeGreaterThan(0);
    }
    expect(text).toContain(`burn (validator)`);
  }, 60_000);

  it('a validator killed mid-window and restarted loses no accepted group, archives each window once, keeps cooldowns', async () => {
    const dataDir = await tempDir();
    const profile = fastDevnetProfile(5, 2);
    const env = envArith();
    const log = process.env['DEVNET_LOG'] ? (l: string) => console.log(l) : undefined;
    const a = await startValidator({ profile, env, dataDir, modelDir: MODEL, ...(log && { log }) });
    const port = Number(new URL(a.url).port);
    const signers = [0, 1].map(() => signerFromSeed(crypto.getRandomValues(new Uint8Array(32))));
    const miners: MinerHost[] = [];
    for (const [i, s] of signers.entries()) {
      await a.chain.register(s.ss58, signerFromSeed(crypto.getRandomValues(new Uint8Array(32))).ss58);
      miners.push(await startMiner({ name: `m${i}`, profile, env, baseUrl: a.url, signer: s, selector: 'uniform', modelDir: MODEL, checkpointN: 0, groupsPerWindow: 6, ...(log && { log }) }));
    }
    let b: Awaited<ReturnType<typeof startValidator>> | null = null;
    let aClosed = false;
    try {
      for (const m of miners) m.start();
      // Windows run normally until one prompt has won (it must stay cooled after the restart); then the validator is
      // killed in the first window that has a group accepted into its pool while it still collects.
      const won: number[] = [];
      const book = () => a.validator.currentBook;
      let target = -1;
      let pending: Promise<unknown> = Promise.resolve();
      for (let k = 0; target < 0; k++) {
        if (k >= 6) throw new Error(`no window got an accepted group after a win: ${JSON.stringify(miners.map((m) => m.stats()))}`);
        let done = false;
        const run = a.runWindow().then((r) => ((done = true), r), (e: unknown) => ((done = true), e));
        const ready = () => won.length > 0 && a.validator.window.phase === 'open' && book()?.ctx.window === k && book()!.allPool().length >= 1;
        while (!done && !ready()) await new Promise((r) => setTimeout(r, 50));
        if (ready()) [target, pending] = [k, run];
        else {
          const r = (await run) as WindowReport;
          expect(r.status).toBe('completed');
          won.push(...r.winners.map((x) => x.promptIdx));
        }
      }
      await a.close(); // the kill: nothing more arrives; a group being graded still gets journaled, then acknowledged
      aClosed = true;
      expect(String(await pending)).toMatch(new RegExp(`killed during window ${target}`));
      await a.validator.idle();
      const acceptedIds = book()!.allPool().map((e) => e.id);
      const acceptedRoots = signers.flatMap((s) => a.validator.verdicts(s.ss58, 0).filter((v) => v.window_n === target && v.reason === Reason.ACCEPTED).map((v) => v.merkle_root));
      expect(acceptedRoots.length).toBeGreaterThan(0);
      expect(new Set(book()!.allPool().map((e) => e.merkleRoot))).toEqual(new Set(acceptedRoots));

      b = await startValidator({ profile, env, dataDir, modelDir: MODEL, port });
      expect(b.hotkey).toBe(a.hotkey);
      expect(b.recoveredTombstones).toEqual([]);
      expect(b.resumed).toEqual({ window: target, groups: acceptedIds.length });
      // (c) the prompts that won before the kill are still cooled (index and content) after the restart
      const ms = b.validator.marketState;
      for (const idx of won) {
        expect(isIndexCooling(ms.indexCooldown, env.name, idx, target)).toBe(true);
        expect(isContentCooling(ms.contentCooldown, promptDigest(env, idx), target)).toBe(true);
      }
      const resumed = await b.runWindow();
      expect(resumed.window).toBe(target);
      expect(resumed.status).toBe('completed');
      expect(resumed.poolSize).toBeGreaterThanOrEqual(acceptedIds.length);
      const got = await archives(dataDir, a.hotkey);
      // (a) every group accepted before the kill is a candidate of the sealed window
      const candidates = Object.values(got.get(target)!.difficulty_auction).flatMap((x) => x.candidates.map((c) => c.id));
      for (const id of acceptedIds) expect(candidates).toContain(id);
      for (const idx of won) expect(got.get(target)!.batch.some((r) => r.prompt_idx === idx)).toBe(false);
      // (b) exactly one signed archive per activated window, none a tombstone
      expect([...got.keys()].sort((x, y) => x - y)).toEqual(Array.from({ length: target + 1 }, (_, i) => i));
      for (const x of got.values()) {
        expect(verifyArchive(x, a.hotkey)).toEqual({ ok: true });
        expect(x.window_status).toBe('completed');
      }
    } finally {
      await Promise.all(miners.map((m) => m.stop()));
      if (!aClosed) await a.close();
      await b?.close();
    }
    expect(DEVNET.admission.rejectDuplicateRolloutsInGroup).toBe(false);
  }, 60_000);
});
