/**
 * The devnet validator host: a `MarketValidator` (core/market) behind `plugins/transport-http` on 127.0.0.1, with the
 * local beacon, the local chain, the filesystem store, the real prove (`proofForward` + `verifyRollouts` on the
 * validator's copy of the published weights) and GRPO training (`createTrainer`/`trainStep`, publish =
 * `saveTrainerCheckpoint` + `setCheckpoint`). `runWindow()` drives one window READY → OPEN → TRAINING → PUBLISHING →
 * READY (spec/market.md §1) and returns what happened in it.
 *
 * Durable state under `dataDir`: `store/` (store-fs: archives, the chain registry, activation markers, the validator
 * and beacon seeds, the checkpoint manifest) and `checkpoints/ckpt-N/` (published HF checkpoints + trainer state).
 * Every activation and every group committed to the pool is journaled (core/market/journal.ts) before it is exposed
 * or acknowledged. A restart resumes the last activated window that has no archive from its journal (same randomness,
 * deadline, pool, claims and quota; sealed at once when its grace has passed) and tombstones a window only when its
 * journal is unreadable, so each activated window has exactly one archive. Index/content cooldowns are snapshotted
 * after each seal and restored with a gap replay of the later archives; rollout hashes are rebuilt from archives.
 * The training accumulator restarts empty, and the last published checkpoint is reloaded.
 *
 * Weights (market §6): the validator registers itself in the local chain (its hotkey under a persisted coldkey) and
 * its uid is the burn uid. After each sealed (completed) window it replays the EMA over the archives of the last
 * `replayWindows` windows (`replayEma`), maps it to uids with the chain's `uidMap` (`weightsFromEma`, unpaid and
 * deregistered mass to the burn uid, so the vector sums to 1) and calls `chain.setWeights`. On the devnet this is
 * once per sealed window (`weightsEvery: 'window'`, the default): a chain-local epoch (tempo 360 × 12 s) is longer
 * than a whole devnet run, so the once-per-epoch rule would set weights at most once. `weightsEvery: 'epoch'` applies
 * the mainnet rule (`shouldSubmitWeights`: first boot, then once per epoch id within `weightsLeadBlocks` of it).
 *
 * Held-out pass@1 (`evalHeldOut`): rollout 0 of `HELD_OUT_EVAL.problems` env-arith held-out problems spread over the
 * split (every level band), under a fixed forced-seed stream (`passAtOneOf` of core/training/loop.ts), on the
 * trainer's current weights; the devnet runs it before the first window and after the last.
 */
import { join, resolve } from 'node:path';
import type { ComputeBackend } from '../../../core/compute/backend.ts';
import { emptyAccumulator, trainingBatches, afterWindow, afterPublish, initialPublishState, type PublishState } from '../../../core/market/accumulator.ts';
import { archiveKey, archiveToEma, type WindowArchive } from '../../../core/market/archive.ts';
import type { PoolEntry } from '../../../core/market/book.ts';
import { loadArchives, planRecovery, restartTombstone, restoreCooldowns, saveCooldownSnapshots, WindowJournal, type JournalRead } from '../../../core/market/journal.ts';
import type { MarketState, SealResult } from '../../../core/market/seal.ts';
import { MarketValidator } from '../../../core/market/validator-service.ts';
import { replayEma, shouldSubmitWeights, weightsFromEma } from '../../../core/market/weights.ts';
import { collectionEnd, graceEnd } from '../../../core/market/window.ts';
import { uidMap } from '../../../core/interfaces/chain.ts';
import type { CheckpointManifest } from '../../../core/interfaces/transport.ts';
import { getJson, putJson } from '../../../core/interfaces/store.ts';
import { loadCheckpoint } from '../../../core/model/checkpoint.ts';
import { Qwen3Model } from '../../../core/model/forward.ts';
import type { Profile } from '../../../core/profile/index.ts';
import { createProver } from '../../../core/validator/prover.ts';
import { hex, utf8 } from '../../../core/protocol/codec.ts';
import { sha256 } from '../../../core/protocol/hash.ts';
import { windowRandomness } from '../../../core/protocol/randomness.ts';
import { signerFromSeed, type Signer } from '../../../core/protocol/sr25519.ts';
import { DEVNET_CHAR_TOKENIZER } from '../../../core/tokenizer/char.ts';
import { passAtOneOf, spreadIndices, TRAIN_LOOP_DEFAULTS } from '../../../core/training/loop.ts';
import { readTrainerState } from '../../../core/training/state.ts';
import { createTrainer, disposeTrainer, saveTrainerCheckpoint, trainStep, type StepRecord, type Trainer } from '../../../core/training/trainer.ts';
import { createNodeWasmBackend } from '../../../kernels/wasm/node.ts';
import { beaconLocal, type LocalBeacon } from '../../../plugins/beacon-local/index.ts';
import { chainLocal, type LocalChain } from '../../../plugins/chain-local/index.ts';
import type { ArithEnvironment } from '../../../plugins/env-arith/index.ts';
import { storeFs, type FsObjectStore } from '../../../plugins/store-fs/index.ts';
import { httpServer } from '../../../plugins/transport-http/index.ts';
import { listen, type Listening } from '../../../plugins/transport-http/listen-node.ts';
import { nodeCheckpointFs, readWholeFile } from '../fs-checkpoint.ts';

export interface ValidatorHostOptions {
  readonly profile: Profile;
  readonly env: ArithEnvironment;
  /** Root of the durable state (store/ and checkpoints/). */
  readonly dataDir: string;
  /** The initial checkpoint (the embedded model) when nothing was published yet. */
  readonly modelDir: string;
  /** 0 = ephemeral. */
  readonly port?: number;
  readonly log?: (line: string) => void;
  /** When to call `chain.setWeights` (see the file header): after every sealed window (default) or once per epoch id. */
  readonly weightsEvery?: 'window' | 'epoch';
  /** `weightsEvery: 'epoch'`: submit when at most this many blocks remain in the epoch (default 10). */
  readonly weightsLeadBlocks?: number;
}

/** The fixed held-out eval: problems spread over env-arith's held-out split, rollout 0 under one forced-seed stream. */
export const HELD_OUT_EVAL = Object.freeze({ problems: 90, randomness: TRAIN_LOOP_DEFAULTS.evalRandomness });

/** One held-out pass@1 measurement of the validator's model. */
export interface HeldOutEval {
  readonly problems: number;
  readonly correct: number;
  /** correct / problems, in [0, 1]. */
  readonly passAt1: number;
  /** Successful training steps behind the evaluated weights (the trainer's schedule step; 0 = the embedded model). */
  readonly trainStep: number;
  /** The last published checkpoint number when evaluated (0 = the embedded model). */
  readonly checkpointN: number;
  readonly seconds: number;
}

/** A `setWeights` call made after a window (market §6). */
export interface WeightsLine {
  readonly block: number;
  readonly epochId: number;
  readonly burnUid: number;
  readonly uids: readonly number[];
  readonly weights: readonly number[];
  /** Weight of each registered hotkey's uid (the burn uid excluded). */
  readonly byHotkey: Readonly<Record<string, number>>;
  /** Mass at the burn uid: unpaid shares plus the omitted mass of deregistered hotkeys. */
  readonly burn: number;
  /** EMA mass of hotkeys no longer registered (part of the burn). */
  readonly omitted: number;
  /** Archived windows the EMA replay read. */
  readonly replayed: number;
}

/** One published checkpoint as the devnet records it (`repo_id` is the local checkpoint directory). */
export interface PublishedCheckpoint {
  readonly checkpointN: number;
  readonly revision: string;
  readonly dir: string;
}

/** What one window did, for the report. */
export interface WindowReport {
  readonly window: number;
  readonly status: 'completed' | 'aborted';
  /** FSM phases with seconds since the window opened. */
  readonly transitions: readonly { readonly phase: string; readonly at: number }[];
  readonly trigger: string;
  readonly poolSize: number;
  readonly checkpointRevision: string;
  readonly sealRandomness: boolean;
  readonly winners: readonly { readonly hotkey: string; readonly promptIdx: number; readonly sigma: number; readonly rank: number }[];
  /** Admission rejects (archive `reject_summary`) plus proof failures at the seal, by reason. */
  readonly rejects: Readonly<Record<string, number>>;
  readonly payouts: Readonly<Record<string, number>>;
  readonly burned: number;
  readonly train: TrainLine | null;
  readonly published: PublishedCheckpoint | null;
  readonly seconds: { readonly collect: number; readonly proof: number; readonly train: number };
  readonly archiveKey: string;
  readonly failure: string | null;
  /** The weights set on the local chain after this window; null when none were set (aborted window, or epoch rule). */
  readonly weights: WeightsLine | null;
}

export interface TrainLine {
  readonly step: number;
  readonly applied: boolean;
  readonly skipped: string | null;
  readonly loss: number;
  readonly gradNorm: number;
  readonly lr: number;
  readonly meanReward: number;
  readonly tokens: number;
  readonly groups: number;
}

export interface ValidatorHost {
  readonly url: string;
  readonly hotkey: string;
  readonly chain: LocalChain;
  readonly beacon: LocalBeacon;
  readonly store: FsObjectStore;
  readonly validator: MarketValidator;
  /** The checkpoint miners must start from (the last published one, else the embedded model). */
  readonly startCheckpoint: { readonly dir: string; readonly checkpointN: number };
  /** Tombstones written at startup for activated windows whose journal was unreadable. */
  readonly recoveredTombstones: readonly number[];
  /** The window resumed from its journal at startup (its next `runWindow` seals it), and how many groups came back. */
  readonly resumed: { readonly window: number; readonly groups: number } | null;
  /** The validator's uid in the local chain: the burn uid of its weights. */
  readonly uid: number;
  runWindow(): Promise<WindowReport>;
  /** Held-out pass@1 of the trainer's current weights (see `HELD_OUT_EVAL`); run between windows. */
  evalHeldOut(): Promise<HeldOutEval>;
  /** Stops listening and frees the model; a window still collecting is abandoned (as a killed process would). */
  close(): Promise<void>;
}

const MANIFEST_KEY = 'devnet/checkpoint.json';
const RUN_ID = 'devnet';
const sleep = (s: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, s * 1000)));
const wall = (): number => Date.now() / 1000;

/** A seed persisted in the store (created on first use): the validator key and the beacon key survive restarts. */
async function persistedSeed(store: FsObjectStore, key: string, bytes: number): Promise<Uint8Array> {
  const have = await store.get(key);
  if (have && have.length === bytes) return have;
  const seed = crypto.getRandomValues(new Uint8Array(bytes));
  await store.put(key, seed);
  return seed;
}

/** Starts the validator: recovers state, loads the model and the trainer, listens on loopback. */
export async function startValidator(o: ValidatorHostOptions): Promise<ValidatorHost> {
  const p = o.profile;
  const log = o.log ?? (() => {});
  const dataDir = resolve(o.dataDir);
  const store = storeFs({ dir: join(dataDir, 'store'), fsync: false });
  const chain = chainLocal({ store });
  const beacon = beaconLocal({ secretSeed: await persistedSeed(store, 'devnet/beacon-seed.bin', 48) });
  const signer: Signer = signerFromSeed(await persistedSeed(store, 'devnet/validator-seed.bin', 32));
  const coldkey: Signer = signerFromSeed(await persistedSeed(store, 'devnet/validator-coldkey-seed.bin', 32));
  const uid = await chain.register(signer.ss58, coldkey.ss58); // idempotent: same uid on every restart
  const fs = nodeCheckpointFs();

  // Restart recovery: resume the interrupted window from its journal; one archive per activated window.
  const windowsUnder = async (prefix: string): Promise<number[]> => (await store.list(prefix)).map((k) => Number(/window-(\d+)\.json$/.exec(k)?.[1])).filter(Number.isSafeInteger);
  const journal = new WindowJournal(store, signer.ss58, p);
  const plan = await planRecovery(journal, await windowsUnder(archiveKey(signer.ss58, 0).replace(/window-0\.json$/, '')), await windowsUnder('devnet/activated/'));
  const published = await getJson<PublishedCheckpoint>(store, MANIFEST_KEY);
  for (const t of plan.tombstones) {
    await store.put(archiveKey(signer.ss58, t.window), utf8(JSON.stringify(restartTombstone(p, signer, t))));
    log(`validator: window ${t.window} has no archive and cannot be resumed (${t.reason}): tombstone archived`);
  }
  for (const s of plan.skipped) log(`validator: journal: skipped a torn record: ${s}`);
  let resume: Extract<JournalRead, { ok: true }> | null = plan.resume;
  const { archives, dropped } = await loadArchives(store, signer.ss58);
  for (const d of dropped) log(`validator: archive dropped from the cooldown replay: ${d}`);
  /** The verified archives by window (the EMA replay's input), kept up to date after each seal. */
  const archived = new Map<number, WindowArchive>(archives.map((a) => [a.window_start, a]));
  const market: MarketState = {
    ...(await restoreCooldowns(store, { runId: RUN_ID, profile: p, archives, current: plan.nextWindow })),
    accumulator: emptyAccumulator<PoolEntry>(Object.fromEntries(p.environmentMix)),
  };

  const startDir = published?.dir ?? resolve(o.modelDir);
  const be: ComputeBackend = await createNodeWasmBackend();
  const trainer: Trainer = createTrainer(be, await loadCheckpoint(fs, startDir), p, published ? await readTrainerState(fs, published.dir) : null);
  let manifest: CheckpointManifest | null = published ? manifestOf(published, signer) : null;
  let publishState: PublishState = initialPublishState(published?.checkpointN ?? 0);

  const v = new MarketValidator({
    profile: p, envs: { [o.env.name]: o.env }, tokenizer: DEVNET_CHAR_TOKENIZER, clock: wall, roundAt: beacon.roundAt,
    market, nextWindow: plan.nextWindow, checkpoint: manifest, beforeAccept: (e, r, body, w) => journal.appendGroup(e, r, body, w),
  });
  const app = httpServer(v, { profile: p, clock: wall, onError: (e, route) => log(`validator: ${route} fault: ${e instanceof Error ? e.message : String(e)}`) });
  const server: Listening = await listen(app, { port: o.port ?? 0, hostname: '127.0.0.1' });
  log(`validator ${signer.ss58} listening on ${server.url} (window ${plan.nextWindow} ${resume ? 'resumes' : 'next'}, checkpoint ${publishState.checkpointN})`);

  const decodeToken = (id: number): string => DEVNET_CHAR_TOKENIZER.decode([id]);

  /** The post-deadline seal beacon: the first round after the deadline, waited for ≤ sealBeaconTimeoutSeconds; "" on failure. */
  async function sealBeacon(deadline: number): Promise<string> {
    const want = beacon.roundAt(deadline) + 1;
    const until = wall() + p.window.sealBeaconTimeoutSeconds;
    for (;;) {
      try {
        const b = await beacon.round(want);
        return windowRandomness(b.randomness, b.round);
      } catch {
        if (wall() >= until) return '';
        await sleep(0.2);
      }
    }
  }

  async function train(r: SealResult): Promise<{ line: TrainLine; rec: StepRecord } | null> {
    if (!r.trainReady) return null;
    const envOrder = p.environmentMix.map(([n]) => n);
    const batches = trainingBatches(r.state.accumulator, envOrder);
    const envs = envOrder.map((name, i) => ({
      name,
      maxNewTokens: p.environments[name]!.maxNewTokens,
      groups: batches[i]!.map((e) => e.submission.rollouts.map((ro, k) => ({ tokens: Int32Array.from(ro.tokens), promptLen: ro.commit.rollout.prompt_length, reward: e.rewards[k]! }))),
    }));
    const rec = await trainStep(trainer, envs, { window: r.archive.window_start });
    v.resetAccumulator(); // market §5: the accumulator is reset after every training attempt
    const line: TrainLine = {
      step: rec.step, applied: rec.applied, skipped: rec.skipped, loss: rec.loss, gradNorm: rec.gradNorm, lr: rec.lr,
      meanReward: rec.meanReward, tokens: rec.tokens, groups: batches.reduce((a, b) => a + b.length, 0),
    };
    return { line, rec };
  }

  async function publish(): Promise<PublishedCheckpoint> {
    const n = publishState.checkpointN + 1;
    const dir = join(dataDir, 'checkpoints', `ckpt-${n}`);
    await saveTrainerCheckpoint(fs, dir, trainer);
    const revision = hex(sha256(await readWholeFile(join(dir, 'model.safetensors')))).slice(0, 40);
    const pub: PublishedCheckpoint = { checkpointN: n, revision, dir };
    await putJson(store, MANIFEST_KEY, pub);
    manifest = manifestOf(pub, signer);
    v.setCheckpoint(manifest);
    return pub;
  }

  /** Market §6: EMA replay of the recent archives → weights over the chain's uids, burn at the validator's uid. */
  let lastEpoch: number | null = null;
  async function setWeights(window: number): Promise<WeightsLine | null> {
    const block = await chain.currentBlock();
    const { submit, epochId } = o.weightsEvery === 'epoch'
      ? shouldSubmitWeights(lastEpoch, block, await chain.blocksUntilNextEpoch(block), o.weightsLeadBlocks ?? 10)
      : { submit: true, epochId: block + (await chain.blocksUntilNextEpoch(block)) };
    if (!submit) return null;
    const from = window - (p.weights.replayWindows - 1);
    const recent = [...archived.values()].filter((a) => a.window_start >= from && a.window_start <= window);
    const ema = replayEma(recent.map(archiveToEma), p.weights);
    const snap = await chain.registry();
    const w = weightsFromEma(ema, uidMap(snap), uid);
    await chain.setWeights(w.uids, w.weights);
    lastEpoch = epochId;
    const byUid = new Map(w.uids.map((u, i) => [u, w.weights[i]!] as const));
    const byHotkey: Record<string, number> = {};
    for (const n of [...snap.neurons].sort((a, b) => a.uid - b.uid)) if (n.uid !== uid && byUid.has(n.uid)) byHotkey[n.hotkey] = byUid.get(n.uid)!;
    return { block, epochId, burnUid: uid, uids: w.uids, weights: w.weights, byHotkey, burn: byUid.get(uid) ?? 0, omitted: w.omitted, replayed: recent.length };
  }

  async function evalHeldOut(): Promise<HeldOutEval> {
    const t0 = wall();
    const model = new Qwen3Model(trainer.be, trainer.cfg, trainer.weights);
    const e = await passAtOneOf(model, {
      env: o.env.heldOut, tokenizer: DEVNET_CHAR_TOKENIZER, profile: p, maxNewTokens: p.environments[o.env.name]?.maxNewTokens ?? 32,
      indices: spreadIndices(o.env.heldOut.size, HELD_OUT_EVAL.problems), randomness: HELD_OUT_EVAL.randomness,
    });
    return { ...e, trainStep: trainer.state.scheduleStep, checkpointN: publishState.checkpointN, seconds: Math.round((wall() - t0) * 1000) / 1000 };
  }

  let killed = false;
  async function close(): Promise<void> {
    killed = true;
    await server.close();
    disposeTrainer(trainer);
    be.destroy();
  }

  async function runWindow(): Promise<WindowReport> {
    const registry = await chain.registry();
    const window = v.window.windowN;
    let openedAt: number, revision: string, randomness: string;
    if (resume) {
      const a = resume.activation;
      [openedAt, revision, randomness] = [a.opened_at, a.checkpoint_revision, a.randomness];
      v.restore({ now: openedAt, openRound: a.open_round, randomness, registry, checkpointRevision: revision }, resume.groups);
      const late = wall() >= graceEnd(v.window, p.window);
      log(`validator: window ${window} RESUMED from its journal with ${resume.groups.length} group(s)${late ? ', grace passed: sealing now' : ''}`);
      resume = null;
    } else {
      const b = await beacon.latest();
      [openedAt, revision, randomness] = [wall(), manifest?.revision ?? '', windowRandomness(b.randomness, b.round)];
      await journal.activate({ window, randomness, opened_at: openedAt, open_round: b.round, checkpoint_revision: revision });
      v.open({ now: openedAt, openRound: b.round, randomness, registry });
      log(`validator: window ${window} OPEN (round ${b.round}, checkpoint ${manifest?.checkpoint_n ?? 0})`);
    }
    const at = (): number => Math.round((wall() - openedAt) * 10) / 10;
    const transitions = [{ phase: 'open', at: 0 }];

    let trigger = '';
    for (;;) {
      if (killed) throw new Error(`validator killed during window ${window}`);
      const d = v.sealPoll(wall());
      if (d.action === 'seal') {
        trigger = d.trigger;
        break;
      }
      await sleep(p.window.sealPollSeconds);
    }
    let drainTimer: ReturnType<typeof setTimeout> | undefined;
    const drained = await Promise.race([
      v.idle().then(() => true),
      new Promise<boolean>((r) => (drainTimer = setTimeout(() => r(false), p.window.drainTimeoutSeconds * 1000))),
    ]);
    clearTimeout(drainTimer);
    const collectEnd = wall();
    let r: SealResult;
    let pool = 0;
    let sealRandomness = '';
    if (!drained) {
      v.abort(wall(), { stage: 'freeze', type: 'drain_timeout' });
      transitions.push({ phase: 'publishing', at: at() });
      r = await v.seal({ prove: () => ({ pass: true }), signer, sealRandomness: '' });
    } else {
      pool = Object.values(v.freeze(wall())).reduce((a, e) => a + e.length, 0);
      transitions.push({ phase: 'training', at: at() });
      sealRandomness = await sealBeacon(collectionEnd(v.window, p.window));
      const model = new Qwen3Model(trainer.be, trainer.cfg, trainer.published);
      r = await v.seal({ prove: createProver({ model, profile: p, randomness, sealRandomness, checkpointHash: revision, decodeToken }), signer, sealRandomness });
      transitions.push({ phase: 'publishing', at: at() });
    }
    const proofEnd = wall();
    const trained = r.status === 'completed' ? await train(r) : null;
    let pub: PublishedCheckpoint | null = null;
    if (trained) {
      const next = afterWindow(publishState, { trained: trained.rec.applied, driftRejected: trained.rec.skipped === 'policy_ratio_drift' }, p.grpo.publishEverySteps);
      publishState = next.state;
      if (next.publish) {
        pub = await publish();
        publishState = afterPublish(publishState, true);
      }
    }
    const trainEnd = wall();
    const key = archiveKey(signer.ss58, window);
    await store.put(key, utf8(JSON.stringify(r.archive)));
    archived.set(window, r.archive);
    await saveCooldownSnapshots(store, v.marketState, window); // market §5; a crash before it is covered by the gap replay
    await journal.prune(window);
    v.archived();
    const weights = r.status === 'completed' ? await setWeights(window) : null;
    transitions.push({ phase: 'ready', at: at() });
    return report(window, r, { transitions, trigger, pool, sealRandomness, revision, key, trained: trained?.line ?? null, pub, weights, seconds: { collect: collectEnd - openedAt, proof: proofEnd - collectEnd, train: trainEnd - proofEnd } });
  }

  return {
    url: server.url,
    hotkey: signer.ss58,
    chain,
    beacon,
    store,
    validator: v,
    startCheckpoint: { dir: startDir, checkpointN: published?.checkpointN ?? 0 },
    recoveredTombstones: plan.tombstones.map((t) => t.window),
    resumed: plan.resume ? { window: plan.resume.activation.window, groups: plan.resume.groups.length } : null,
    uid,
    runWindow,
    evalHeldOut,
    close,
  };
}

function manifestOf(pub: PublishedCheckpoint, signer: Signer): CheckpointManifest {
  return { checkpoint_n: pub.checkpointN, repo_id: pub.dir, revision: pub.revision, signature: signer.sign(utf8(`${pub.checkpointN}|${pub.revision}`)) };
}

interface ReportExtras {
  transitions: { phase: string; at: number }[];
  trigger: string;
  pool: number;
  sealRandomness: string;
  revision: string;
  key: string;
  trained: TrainLine | null;
  pub: PublishedCheckpoint | null;
  weights: WeightsLine | null;
  seconds: WindowReport['seconds'];
}

function report(window: number, r: SealResult, x: ReportExtras): WindowReport {
  const a: WindowArchive = r.archive;
  const rejects: Record<string, number> = { ...a.reject_summary };
  for (const f of r.finals) if (f.reason) rejects[f.reason] = (rejects[f.reason] ?? 0) + 1;
  const r3 = (s: number): number => Math.round(s * 1000) / 1000;
  return {
    window,
    status: r.status,
    transitions: x.transitions,
    trigger: x.trigger,
    poolSize: x.pool,
    checkpointRevision: x.revision,
    sealRandomness: x.sealRandomness !== '',
    winners: r.finals.filter((f) => f.selected).map((f) => ({ hotkey: f.hotkey, promptIdx: a.batch.find((b) => b.extra?.['merkle_root'] === f.merkleRoot)?.prompt_idx ?? -1, sigma: f.sigma, rank: f.rank })),
    rejects,
    payouts: { ...a.rewards_by_hotkey },
    burned: a.burned,
    train: x.trained,
    published: x.pub,
    seconds: { collect: r3(x.seconds.collect), proof: r3(x.seconds.proof), train: r3(x.seconds.train) },
    archiveKey: x.key,
    failure: a.failure_stage ? `${a.failure_stage}: ${a.failure_type ?? ''}` : null,
    weights: x.weights,
  };
}
