/**
 * Crash-safe seal → train → publish → archive → weights (core/validator/progress.ts): the real devnet validator
 * (tiny model, wasm, HTTP, filesystem store) with two miners is crashed at every step boundary of the window loop in
 * turn (`crashAt`, one boundary per crash), each time restarted as a fresh node on the same data directory, and run
 * on. Then: exactly one signed archive per activated window, checkpoints numbered 1…K with one per trained window
 * and no stray directory, the trainer's window cursor at the last trained window, and every window's groups proved
 * on the checkpoint the window announced (its generation checkpoint), including a window resumed from its journal.
 *
 * Plus the measured bug: a crash between the checkpoint publish and the archive, on a store without the progress
 * record (as the old host left it): the window resumes from its journal, is proved on the checkpoint its groups
 * were generated on (loaded back from the index, not the newer current one) and is not trained a second time.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getJson } from '../../core/interfaces/store.ts';
import { archiveKey, verifyArchive, type WindowArchive } from '../../core/market/archive.ts';
import { signerFromSeed } from '../../core/protocol/sr25519.ts';
import { progressKey, decodeProgress } from '../../core/validator/progress.ts';
import type { PublishedCheckpoint, WindowReport } from '../../core/validator/report.ts';
import { ValidatorCrash, type CrashPoint, type ValidatorEvent } from '../../core/validator/validator-node.ts';
import { fastDevnetProfile } from '../../hosts/node/devnet/devnet.ts';
import { startMiner, type MinerHost } from '../../hosts/node/devnet/miner-host.ts';
import { startValidator, type ValidatorHost } from '../../hosts/node/devnet/validator-host.ts';
import { envArith } from '../../plugins/env-arith/index.ts';

const MODEL = resolve('models/tiny-arith');
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

type Prove = Extract<ValidatorEvent, { kind: 'prove' }>;

/** A devnet validator + two uniform miners on one data directory, restartable on the same port. */
async function harness(profile = fastDevnetProfile(6, 2)) {
  const dataDir = await mkdtemp(join(tmpdir(), 'reliquary-crash-'));
  dirs.push(dataDir);
  const env = envArith();
  const proofs: Prove[] = [];
  const reports: WindowReport[] = [];
  let armed: { point: CrashPoint; when: (w: number) => Promise<boolean> } | null = null;
  const log = process.env['DEVNET_LOG'] ? (l: string) => console.log(l) : undefined;
  const start = (port = 0) => startValidator({
    profile, env, dataDir, modelDir: MODEL, port, ...(log && { log }),
    onEvent: (e) => void (e.kind === 'prove' && proofs.push(e)),
    crashAt: async (point, w) => {
      if (armed?.point !== point || !(await armed.when(w))) return false;
      armed = null;
      return true;
    },
  });
  let v: ValidatorHost = await start();
  const port = Number(new URL(v.url).port);
  const miners: MinerHost[] = [];
  for (const i of [0, 1]) {
    const s = signerFromSeed(crypto.getRandomValues(new Uint8Array(32)));
    await v.chain.register(s.ss58, signerFromSeed(crypto.getRandomValues(new Uint8Array(32))).ss58);
    miners.push(await startMiner({ name: `m${i}`, profile, env, baseUrl: v.url, signer: s, selector: 'uniform', modelDir: MODEL, checkpointN: 0, groupsPerWindow: 6, ...(log && { log }) }));
  }
  for (const m of miners) m.start();
  const progress = async (w: number) => {
    const b = await v.store.get(progressKey(v.hotkey, w));
    const d = b && decodeProgress(b);
    return d && d.ok ? d.record : null;
  };
  return {
    dataDir, proofs, reports, progress,
    get v() {
      return v;
    },
    /** Runs windows until the armed crash fires (at most `max` windows); returns the crashed window. */
    async crashAt(point: CrashPoint, when: (w: number) => Promise<boolean> = async () => true, max = 8): Promise<number> {
      armed = { point, when };
      for (let k = 0; k < max; k++) {
        try {
          reports.push(await v.runWindow());
        } catch (e) {
          if (!(e instanceof ValidatorCrash)) throw e;
          expect(e.point).toBe(point);
          return e.window;
        }
      }
      throw new Error(`no crash at ${point} in ${max} windows: ${JSON.stringify(reports.map((r) => [r.window, r.winners.length, r.train?.applied]))}`);
    },
    async restart(): Promise<ValidatorHost> {
      await v.close();
      v = await start(port);
      return v;
    },
    async stop(): Promise<void> {
      await Promise.all(miners.map((m) => m.stop()));
      await v.close();
    },
  };
}

async function storedArchives(h: { v: ValidatorHost }): Promise<Map<number, WindowArchive>> {
  const out = new Map<number, WindowArchive>();
  for (const k of await h.v.store.list(archiveKey(h.v.hotkey, 0).replace(/window-0\.json$/, ''))) {
    const a = (await getJson<WindowArchive>(h.v.store, k))!;
    expect(verifyArchive(a, h.v.hotkey)).toEqual({ ok: true });
    expect(out.has(a.window_start)).toBe(false);
    out.set(a.window_start, a);
  }
  return out;
}

async function checkpoints(h: { v: ValidatorHost; dataDir: string }): Promise<PublishedCheckpoint[]> {
  const idx = await Promise.all((await h.v.store.list('devnet/checkpoints/')).map((k) => getJson<PublishedCheckpoint>(h.v.store, k)));
  return idx.map((c) => c!).sort((a, b) => a.checkpointN - b.checkpointN);
}

describe('a validator crashed at every step boundary of the window loop', () => {
  it('resumes to exactly one archive and one checkpoint per window, groups proved on their generation checkpoint', async () => {
    const h = await harness();
    const crashed: { point: CrashPoint; window: number }[] = [];
    try {
      const trainedHere = async (w: number) => (await h.progress(w))?.train?.applied === true;
      const publishedHere = async (w: number) => (await h.progress(w))?.published != null;
      for (const [point, when] of [
        ['activated', undefined], ['frozen', undefined], ['sealed', undefined], ['trained', trainedHere],
        ['published', publishedHere], ['archived', undefined], ['weights', undefined],
      ] as const) {
        const window = await h.crashAt(point, when);
        crashed.push({ point, window });
        const v = await h.restart();
        if (point === 'activated' || point === 'frozen') expect(v.resumed?.window).toBe(window);
        else expect(v.node.recovery.unfinished).toEqual([{ window, stage: point === 'weights' ? 'archived' : point }]);
        const r = await v.runWindow(); // the interrupted window, finished (or resumed and sealed)
        h.reports.push(r);
        expect(r.window).toBe(window);
        expect(r.resumedAt).toBe(point === 'activated' || point === 'frozen' ? 'journal' : point === 'weights' ? 'archived' : point);
      }
      h.reports.push(await h.v.runWindow());
    } finally {
      await h.stop();
    }
    const last = Math.max(...h.reports.map((r) => r.window));
    const archives = await storedArchives(h);
    // one signed archive per activated window, and each finished window reported once
    expect([...archives.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: last + 1 }, (_, i) => i));
    expect(h.reports.map((r) => r.window).sort((a, b) => a - b)).toEqual([...archives.keys()].sort((a, b) => a - b));
    for (const r of h.reports) expect(r.status).toBe(archives.get(r.window)!.window_status);
    // one checkpoint per trained window, numbered 1…K, no second checkpoint or directory for a window
    const trained = h.reports.filter((r) => r.train?.applied).map((r) => r.window);
    const ckpts = await checkpoints(h);
    expect(trained.length).toBeGreaterThanOrEqual(2);
    expect(ckpts.map((c) => c.checkpointN)).toEqual(trained.map((_, i) => i + 1));
    expect(ckpts.map((c) => c.window)).toEqual(trained);
    expect((await readdir(join(h.dataDir, 'checkpoints'))).sort()).toEqual(ckpts.map((c) => `ckpt-${c.checkpointN}`).sort());
    expect(h.reports.flatMap((r) => (r.published ? [r.published.checkpointN] : []))).toEqual(ckpts.map((c) => c.checkpointN));
    // the trainer's durable cursor is the last trained window
    expect(h.v.node.trainer.state.windowCursor).toBe(trained[trained.length - 1]);
    // every proof ran on the checkpoint its window announced (the archive's revision), the resumed windows' included
    for (const p of h.proofs) expect(p.revision).toBe(archives.get(p.window)!.checkpoint_revision);
    for (const c of crashed.filter((x) => x.point === 'frozen' || x.point === 'activated')) {
      expect(h.proofs.filter((p) => p.window === c.window).length).toBeGreaterThanOrEqual(1);
    }
    // the window announced the checkpoint current at its open: the one published by the last trained window before it
    for (const [w, a] of archives) {
      const before = ckpts.filter((c) => c.window! < w).pop();
      if (before) expect(a.checkpoint_revision).toBe(before.revision);
    }
  }, 300_000);

  it('the measured bug: a crash between publish and archive with no progress record resumes without a second step', async () => {
    const h = await harness();
    let window = -1;
    try {
      window = await h.crashAt('published', async (w) => (await h.progress(w))?.published != null);
      const published = (await h.progress(window))!.published!;
      await h.v.store.delete!(progressKey(h.v.hotkey, window)); // the store as the old host left it
      const v = await h.restart();
      expect(v.resumed?.window).toBe(window);
      expect(v.node.checkpoint.checkpointN).toBe(published.checkpointN);
      expect(v.node.trainer.state.windowCursor).toBe(window);
      const r = await v.runWindow();
      h.reports.push(r);
      expect(r.window).toBe(window);
      expect(r.status).toBe('completed');
      expect(r.train).toBeNull();
      expect(r.published).toBeNull();
      const proof = h.proofs.filter((p) => p.window === window).pop()!;
      expect(proof.checkpointN).toBe(published.checkpointN - 1);
      expect(proof.loaded).toBe(true);
      expect(proof.revision).not.toBe(published.revision);
      h.reports.push(await v.runWindow());
    } finally {
      await h.stop();
    }
    const archives = await storedArchives(h);
    expect(archives.get(window)!.window_status).toBe('completed');
    const ckpts = await checkpoints(h);
    expect(ckpts.filter((c) => c.window === window)).toHaveLength(1);
    expect(ckpts.map((c) => c.checkpointN)).toEqual(ckpts.map((_, i) => i + 1));
  }, 200_000);

  it('a training step not yet published when the process dies is replayed from its record, not lost or doubled', async () => {
    const base = fastDevnetProfile(6, 2);
    const h = await harness({ ...base, grpo: { ...base.grpo, publishEverySteps: 2 } });
    let window = -1;
    let stepsBefore = -1;
    try {
      // the first step always publishes (first training ever); crash after archiving the next trained, unpublished one
      window = await h.crashAt('archived', async (w) => {
        const r = await h.progress(w);
        return r?.train?.applied === true && r.published === null;
      }, 10);
      stepsBefore = h.v.node.trainer.state.scheduleStep;
      const masters = h.v.node.trainer.state.optimizer.params.map((q) => q.master.slice());
      const v = await h.restart();
      // the replayed step lands on the same fp32 masters as the step the dead process had taken
      expect(v.node.trainer.state.optimizer.params.map((q) => q.master)).toEqual(masters);
      expect(v.node.recovery.replayedSteps).toEqual([window]);
      expect(v.node.trainer.state.windowCursor).toBe(window);
      expect(v.node.trainer.state.scheduleStep).toBe(stepsBefore);
      const r = await v.runWindow();
      h.reports.push(r);
      expect(r.window).toBe(window);
      expect(r.resumedAt).toBe('archived');
    } finally {
      await h.stop();
    }
    const ckpts = await checkpoints(h);
    expect(ckpts.map((c) => c.checkpointN)).toEqual(ckpts.map((_, i) => i + 1));
    expect(ckpts.some((c) => c.window === window)).toBe(false);
    expect((await storedArchives(h)).get(window)!.window_status).toBe('completed');
  }, 200_000);
});
