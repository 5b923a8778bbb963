/**
 * The validator node (design.md "Layers": the miner's twin): restart recovery, then one window at a time
 * READY → OPEN → TRAINING → PUBLISHING → READY (spec/market.md §1), over injected dependencies: the object store,
 * the chain, the beacon, a compute backend that trains, the checkpoint-I/O seam, clock and sleep, the environments,
 * the tokenizer and the signer. The `MarketValidator` (core/market) it drives is what a transport serves.
 *
 *   open      journal the activation (randomness, round, the announced checkpoint) → open the book
 *   collect   seal poll every `sealPollSeconds` → drain the grading queue (≤ `drainTimeoutSeconds`, else tombstone)
 *   seal      freeze → post-deadline seal beacon → prove every ranked group on the checkpoint the window announced
 *             (`createProver`; a checkpoint other than the current one is loaded from the checkpoint index) → pay,
 *             commit cooldowns, sign the archive → the `sealed` progress record (progress.ts), before anything else
 *   train     the accumulator's batch, once per window (the trainer's window cursor is the truth)
 *   publish   on the cadence (`afterWindow`): trainer checkpoint, index, manifest (publish.ts) → `setCheckpoint`
 *   archive   the signed archive under its key, cooldown snapshots, journal prune
 *   weights   EMA replay → `chain.setWeights` (weights.ts)
 *
 * Each step after the seal is recorded in the window's progress record, so a restart continues at the step it
 * stopped at and never repeats a non-idempotent one (progress.ts explains the markers). `startValidatorNode`
 * (recovery.ts) builds a node from the store: an unfinished sealed window is finished by the next `runWindow`; an
 * activated window without a seal resumes from its journal (same randomness, deadline, pool, announced checkpoint;
 * sealed at once when its grace has passed). `crashAt` injects a crash at a step boundary (tests).
 *
 * @example
 *   const node = await startValidatorNode({ profile, store, chain, beacon, backend, checkpoints, signer, uid, envs,
 *     tokenizer, clock: () => Date.now() / 1000, sleep }, { runId: 'devnet' });
 *   serve(node.validator);                 // e.g. plugins/transport-http
 *   const report = await node.runWindow(); // { window, status, winners, train, published, weights, … }
 */
import type { Beacon } from '../interfaces/beacon.ts';
import type { Chain } from '../interfaces/chain.ts';
import type { ComputeBackend } from '../interfaces/compute.ts';
import type { Environment } from '../interfaces/environment.ts';
import type { ObjectStore } from '../interfaces/store.ts';
import { trainingBatches, afterWindow, afterPublish, type PublishState } from '../market/accumulator.ts';
import { archiveKey, type WindowArchive } from '../market/archive.ts';
import { saveCooldownSnapshots } from '../market/journal.ts';
import type { SealResult } from '../market/seal.ts';
import { MarketValidator, type MarketValidatorOptions } from '../market/validator-service.ts';
import { collectionEnd, graceEnd } from '../market/window.ts';
import { loadCheckpoint } from '../model/checkpoint.ts';
import { parseQwen3Config } from '../model/config.ts';
import { Qwen3Model } from '../model/forward.ts';
import { modelTensors } from '../model/load.ts';
import { disposeQwen3Weights, uploadQwen3Weights } from '../model/weights.ts';
import type { Profile } from '../profile/index.ts';
import { utf8 } from '../protocol/codec.ts';
import { windowRandomness } from '../protocol/randomness.ts';
import type { Signer } from '../protocol/sr25519.ts';
import type { Tokenizer } from '../tokenizer/types.ts';
import { passAtOneOf } from '../training/loop.ts';
import { disposeTrainer, trainStep, type StepEnvironment, type Trainer } from '../training/trainer.ts';
import { dropProgress, loadBatch, progressPrefix, putProgress, storeBatch, type ProgressRecord } from './progress.ts';
import { createProver } from './prover.ts';
import { CheckpointBencher } from './benchmark.ts';
import { findCheckpoint, manifestOf, publishCheckpoint, type CheckpointIo, type CheckpointKeys } from './publish.ts';
import type { Recovered, Recovery } from './recovery.ts';
import { sealFacts, windowReport, type HeldOutEval, type PublishedCheckpoint, type TrainLine, type WindowReport } from './report.ts';
import { submitWeights } from './weights.ts';
import { recordBundle, replayableArchive } from '../audit/record.ts';
import { recordCustody, restoredCustody } from '../audit/custody.ts';
import { decodePiOld, encodePiOld } from '../audit/pi-old.ts';

export interface ValidatorNodeDeps {
  readonly profile: Profile;
  readonly store: ObjectStore;
  readonly chain: Chain;
  readonly beacon: Beacon;
  /** Runs the proof forwards and the training steps (must implement the backward ops); owned by the host. */
  readonly backend: ComputeBackend;
  readonly checkpoints: CheckpointIo;
  readonly signer: Signer;
  /** The validator's uid on the chain: the burn uid of its weights. */
  readonly uid: number;
  readonly envs: Readonly<Record<string, Environment>>;
  readonly tokenizer: Tokenizer;
  /** Wall clock, unix seconds. */
  readonly clock: () => number;
  readonly sleep: (seconds: number) => Promise<void>;
  /** Extra `MarketValidator` seams (reveal parser, receipt randomness, byte budget). */
  readonly market?: Partial<Pick<MarketValidatorOptions, 'parseReveal' | 'randomBytes' | 'byteBudgetPerEnv'>>;
  /** The held-out eval of `evalHeldOut` (absent: it throws). */
  readonly heldOut?: { readonly env: Environment; readonly indices: readonly number[]; readonly randomness: string; readonly maxNewTokens: number };
  readonly onEvent?: (e: ValidatorEvent) => void;
}

/** A step boundary where `crashAt` can stop the node. */
export type CrashPoint = 'activated' | 'frozen' | 'sealed' | 'trained' | 'published' | 'archived' | 'weights';

export interface ValidatorNodeOptions {
  /** Run id of the cooldown snapshots. */
  runId: string;
  /** After every sealed window (default) or once per epoch id (weights.ts). */
  weightsEvery: 'window' | 'epoch';
  weightsLeadBlocks: number;
  /** Store keys of the manifest and checkpoint index (default under `reliquary/<hotkey>/`). */
  checkpointKeys: CheckpointKeys | undefined;
  /** Prefix of legacy `window-N.json` activation markers read at recovery (none by default). */
  legacyActivatedPrefix: string | undefined;
  /** Test hook: true → throw a `ValidatorCrash` at that boundary (the node must then be discarded). */
  crashAt: ((point: CrashPoint, window: number) => boolean | Promise<boolean>) | undefined;
}

export const VALIDATOR_DEFAULTS: Readonly<ValidatorNodeOptions> = Object.freeze({
  runId: 'main', weightsEvery: 'window', weightsLeadBlocks: 10, checkpointKeys: undefined, legacyActivatedPrefix: undefined, crashAt: undefined,
});

/** What the node tells its host. */
export type ValidatorEvent =
  | { readonly kind: 'log'; readonly line: string }
  /** A window's groups are about to be proved on `revision` (`loaded`: not the current checkpoint, read back from the index). */
  | { readonly kind: 'prove'; readonly window: number; readonly revision: string; readonly checkpointN: number; readonly loaded: boolean }
  | { readonly kind: 'window'; readonly report: WindowReport };

/** An injected crash (`crashAt`). */
export class ValidatorCrash extends Error {
  override readonly name = 'ValidatorCrash';
  constructor(readonly point: CrashPoint, readonly window: number) {
    super(`injected crash at ${point} of window ${window}`);
  }
}

export class ValidatorNode {
  /** The market state machine and admission service a transport serves. */
  readonly validator: MarketValidator;
  readonly trainer: Trainer;
  recovery!: Recovery;
  private current: PublishedCheckpoint;
  private publishState: PublishState;
  private bencher: CheckpointBencher | null = null;
  private resume: Recovered['resume'];
  private readonly unfinished: ProgressRecord[];
  /** The verified archives by window (the EMA replay's input), kept up to date after each seal. */
  private readonly archived: Map<number, WindowArchive>;
  private lastEpoch: number | null = null;
  private killed = false;
  /** The seal's recomputed π_old by group id (pi-old.ts encoding), kept while the group may be in the accumulator. */
  private readonly piOld = new Map<string, readonly string[]>();

  constructor(private readonly deps: ValidatorNodeDeps, private readonly o: ValidatorNodeOptions, private readonly r: Recovered) {
    this.trainer = r.trainer;
    this.current = r.current;
    this.publishState = r.publishState;
    this.resume = r.resume;
    this.unfinished = [...r.unfinished];
    this.archived = new Map(r.archives.map((a) => [a.window_start, a]));
    const d = deps;
    this.validator = new MarketValidator({
      ...d.market, profile: d.profile, envs: d.envs, tokenizer: d.tokenizer, clock: d.clock, roundAt: (t) => d.beacon.roundAt(t),
      market: r.market, nextWindow: r.nextWindow,
      // Always announced (the base checkpoint, n = 0, before the first publish): admission's WRONG_CHECKPOINT check
      // is always on and the forced-seed stream is always keyed by the real checkpoint hash.
      checkpoint: manifestOf(r.current, d.signer),
      beforeAccept: (e, rc, body, w) => r.journal.appendGroup(e, rc, body, w),
    });
  }

  /** The checkpoint announced now: the base checkpoint (`checkpointN` 0, revision of its weights) before the first publish. */
  get checkpoint(): PublishedCheckpoint {
    return this.current;
  }

  private log(line: string): void {
    this.deps.onEvent?.({ kind: 'log', line });
  }

  private async crash(point: CrashPoint, window: number): Promise<void> {
    if (this.o.crashAt && (await this.o.crashAt(point, window))) throw new ValidatorCrash(point, window);
  }

  /** Runs one window to READY (or finishes one a restart found sealed) and reports it. */
  async runWindow(): Promise<WindowReport> {
    const pending = this.unfinished.shift();
    const report = pending ? await this.finish(pending, pending.stage, false) : await this.collectAndSeal();
    this.deps.onEvent?.({ kind: 'window', report });
    return report;
  }

  private async collectAndSeal(): Promise<WindowReport> {
    const { profile: p, clock, beacon, signer } = this.deps;
    const v = this.validator;
    const registry = await this.deps.chain.registry();
    const window = v.window.windowN;
    let openedAt: number, revision: string, randomness: string;
    const resumed = this.resume !== null;
    if (this.resume) {
      const a = this.resume.activation;
      [openedAt, revision, randomness] = [a.opened_at, a.checkpoint_revision, a.randomness];
      v.restore({ now: openedAt, openRound: a.open_round, randomness, registry, checkpointRevision: revision }, this.resume.groups);
      const late = clock() >= graceEnd(v.window, p.window);
      this.log(`validator: window ${window} RESUMED from its journal with ${this.resume.groups.length} group(s)${late ? ', grace passed: sealing now' : ''}`);
      this.resume = null;
    } else {
      const b = await beacon.latest();
      [openedAt, revision, randomness] = [clock(), this.current.revision, windowRandomness(b.randomness, b.round)];
      await this.r.journal.activate({ window, randomness, opened_at: openedAt, open_round: b.round, checkpoint_revision: revision });
      await this.crash('activated', window);
      v.open({ now: openedAt, openRound: b.round, randomness, registry });
      this.log(`validator: window ${window} OPEN (round ${b.round}, checkpoint ${this.current.checkpointN} ${revision.slice(0, 12)})`);
    }
    const at = (): number => Math.round((clock() - openedAt) * 10) / 10;
    const transitions = [{ phase: 'open', at: 0 }];

    let trigger = '';
    for (;;) {
      if (this.killed) throw new Error(`validator killed during window ${window}`);
      const d = v.sealPoll(clock());
      if (d.action === 'seal') {
        trigger = d.trigger;
        break;
      }
      await this.deps.sleep(p.window.sealPollSeconds);
    }
    let drainTimer: ReturnType<typeof setTimeout> | undefined;
    const drained = await Promise.race([
      v.idle().then(() => true),
      new Promise<boolean>((res) => (drainTimer = setTimeout(() => res(false), p.window.drainTimeoutSeconds * 1000))),
    ]);
    clearTimeout(drainTimer);
    const collectEnd = clock();
    let r: SealResult;
    let pool = 0;
    let sealRandomness = '';
    if (!drained) {
      v.abort(clock(), { stage: 'freeze', type: 'drain_timeout' });
      transitions.push({ phase: 'publishing', at: at() });
      r = await v.seal({ prove: () => ({ pass: true }), signer, sealRandomness: '' });
    } else {
      pool = Object.values(v.freeze(clock())).reduce((a, e) => a + e.length, 0);
      await this.crash('frozen', window);
      transitions.push({ phase: 'training', at: at() });
      sealRandomness = await this.sealBeacon(trigger === 'filled' ? collectEnd : collectionEnd(v.window, p.window)); // a filled window: the round after its fill, not its deadline
      r = await this.prove(window, revision, randomness, sealRandomness);
      transitions.push({ phase: 'publishing', at: at() });
    }
    const batch = r.status === 'completed' && r.trainReady ? storeBatch(this.trainingEnvs(r)) : null;
    const proved = Object.fromEntries(Object.values(r.archive.difficulty_auction).flatMap((a) => a.candidates).filter((c) => this.piOld.has(c.id)).map((c) => [c.id, this.piOld.get(c.id)!]));
    const keep = new Set(Object.values(r.state.accumulator.groups).flat().map((e) => e.id));
    for (const id of [...this.piOld.keys()]) if (batch || !keep.has(id)) this.piOld.delete(id); // a trained batch empties the accumulator
    const rec: ProgressRecord = {
      window, stage: 'sealed', status: r.status, archive: r.archive, batch, piOld: proved, openedAt, train: null, publishDue: false, published: null, trainSeconds: 0, weights: null,
      seal: sealFacts(r, { transitions, trigger, poolSize: pool, checkpointRevision: revision, sealRandomness, collect: collectEnd - openedAt, proof: clock() - collectEnd }),
    };
    await putProgress(this.deps.store, signer.ss58, rec);
    await this.crash('sealed', window);
    return this.finish(rec, resumed ? 'journal' : null, true);
  }

  /** The post-deadline seal beacon: the first round after the deadline, waited for ≤ sealBeaconTimeoutSeconds; "" on failure. */
  private async sealBeacon(deadline: number): Promise<string> {
    const { beacon, clock, profile: p } = this.deps;
    const want = beacon.roundAt(deadline) + 1;
    const until = clock() + p.window.sealBeaconTimeoutSeconds;
    for (;;) {
      try {
        const b = await beacon.round(want);
        return windowRandomness(b.randomness, b.round);
      } catch {
        if (clock() >= until) return '';
        await this.deps.sleep(0.2);
      }
    }
  }

  /** Seals the frozen window, proving on the checkpoint the window announced (loaded when it is not the current one). */
  private async prove(window: number, revision: string, randomness: string, sealRandomness: string): Promise<SealResult> {
    const { profile, signer, tokenizer } = this.deps;
    const v = this.validator;
    const t = this.trainer;
    // "" is a window activated before the base checkpoint was announced: it was generated on the base checkpoint.
    const ckpt = revision === this.current.revision ? this.current
      : await findCheckpoint(this.deps.store, this.r.keys, revision === '' ? this.r.base.revision : revision, this.r.base);
    if (ckpt === null) {
      this.log(`validator: window ${window} announced checkpoint ${revision}, which is not in the checkpoint index: tombstone`);
      return v.seal({ prove: () => ({ pass: true }), signer, sealRandomness, failure: { stage: 'prove', type: `checkpoint_unavailable: ${revision}` } });
    }
    const loaded = ckpt !== this.current;
    this.deps.onEvent?.({ kind: 'prove', window, revision, checkpointN: ckpt.checkpointN, loaded });
    let weights = t.published;
    if (loaded) {
      const c = await loadCheckpoint(this.deps.checkpoints.fs, ckpt.dir);
      weights = uploadQwen3Weights(t.be, parseQwen3Config(c.config), modelTensors(c.tensors));
      this.log(`validator: window ${window} proved on checkpoint ${ckpt.checkpointN} (${revision.slice(0, 12)}), the one it announced`);
    }
    try {
      const model = new Qwen3Model(t.be, t.cfg, weights);
      const decodeToken = (id: number): string => tokenizer.decode([id]);
      const keep = (id: string, lp: readonly Float32Array[]): void => void this.piOld.set(id, lp.map(encodePiOld)); // π_old rung 1 (training.md §1.7)
      return await v.seal({ prove: createProver({ model, profile, randomness, sealRandomness, checkpointHash: revision, decodeToken }, keep), signer, sealRandomness });
    } finally {
      if (loaded) disposeQwen3Weights(t.be, weights);
    }
  }

  /** The accumulator's batch as trainer environments (profile `environmentMix` order). */
  private trainingEnvs(r: SealResult): StepEnvironment[] {
    const p = this.deps.profile;
    const envOrder = p.environmentMix.map(([n]) => n);
    const batches = trainingBatches(r.state.accumulator, envOrder);
    return envOrder.map((name, i) => ({
      name,
      maxNewTokens: p.environments[name]!.maxNewTokens,
      groups: batches[i]!.map((e) => e.submission.rollouts.map((ro, k) => {
        const lp = this.piOld.get(e.id)?.[k];
        const logpOld = lp === undefined ? null : decodePiOld(lp, ro.tokens.length - ro.commit.rollout.prompt_length);
        return { tokens: Int32Array.from(ro.tokens), promptLen: ro.commit.rollout.prompt_length, reward: e.rewards[k]!, ...(logpOld ? { logpOld } : {}) };
      })),
    }));
  }

  /** Train → publish → archive → weights from the record's stage on; each step recorded before the next. */
  private async finish(start: ProgressRecord, resumedAt: string | null, live: boolean): Promise<WindowReport> {
    const { store, signer, profile: p, clock } = this.deps;
    const v = this.validator;
    const hot = signer.ss58;
    const w = start.window;
    let rec = start;
    if (rec.stage === 'sealed') {
      const t0 = clock();
      let train: TrainLine | null = null;
      let publishDue = false;
      if (rec.batch && w > (this.trainer.state.windowCursor ?? -1)) {
        const envs = loadBatch(rec.batch);
        const s = await trainStep(this.trainer, envs, { window: w });
        train = { step: s.step, applied: s.applied, skipped: s.skipped, loss: s.loss, gradNorm: s.gradNorm, lr: s.lr, meanReward: s.meanReward, tokens: s.tokens, groups: envs.reduce((a, e) => a + e.groups.length, 0) };
        const next = afterWindow(this.publishState, { trained: s.applied, driftRejected: s.skipped === 'policy_ratio_drift' }, p.grpo.publishEverySteps);
        this.publishState = next.state;
        publishDue = next.publish;
      } else if (rec.batch) {
        this.log(`validator: window ${w} is already trained (window cursor ${this.trainer.state.windowCursor}): no second step`);
      }
      if (live && rec.batch) v.resetAccumulator(); // market §5: the accumulator is reset after every training attempt
      rec = { ...rec, stage: 'trained', train, publishDue, trainSeconds: clock() - t0 };
      await putProgress(store, hot, rec);
      await this.crash('trained', w);
    }
    if (rec.stage === 'trained') {
      const t0 = clock();
      let pub: PublishedCheckpoint | null = null;
      // The replay bundle (core/audit), before the publish so its custody manifest names it.
      if (this.current.window !== w) await recordBundle(store, { validator: hot, profile: p, rec, journalPrefix: this.r.journal.prefix(w), parent: this.current });
      if (rec.publishDue) {
        // The manifest is the durable "published" marker: a crash after it must not publish a second checkpoint.
        const parent = this.current;
        // Issue 13: the new checkpoint against its parent on the held-out set, paired (benchmark.ts), when the node has one.
        const bench = this.deps.heldOut && this.current.window !== w ? await (this.bencher ??= new CheckpointBencher({ profile: p, tokenizer: this.deps.tokenizer, heldOut: this.deps.heldOut })).run(this.trainer, this.current.checkpointN) : undefined;
        pub = this.current.window === w ? this.current : await publishCheckpoint(this.deps.checkpoints, store, this.r.keys, this.trainer, this.current.checkpointN + 1, w, bench);
        this.publishState = afterPublish(this.publishState, true);
        this.current = pub;
        const custody = parent === pub // published before a restart: its stored custody (rebuilt if the crash came first)
          ? await restoredCustody(store, signer, pub, this.r.keys.index, this.r.base, manifestOf(pub, signer))
          : await recordCustody(store, signer, pub, parent, manifestOf(pub, signer));
        v.setCheckpoint(manifestOf(pub, signer, custody));
      }
      rec = { ...rec, stage: 'published', published: pub, trainSeconds: rec.trainSeconds + clock() - t0 };
      await putProgress(store, hot, rec);
      await this.crash('published', w);
    }
    const key = archiveKey(hot, w);
    if (rec.stage === 'published') {
      rec = { ...rec, archive: await replayableArchive(store, signer, rec) }; // + the signed replay block (core/audit)
      await store.put(key, utf8(JSON.stringify(rec.archive)));
      this.archived.set(w, rec.archive);
      await saveCooldownSnapshots(store, v.marketState, w); // market §5; a crash before it is covered by the gap replay
      await this.r.journal.prune(w);
      if (live) v.archived();
      rec = { ...rec, stage: 'archived' };
      await putProgress(store, hot, rec);
      await this.crash('archived', w);
    }
    if (rec.stage === 'archived') {
      this.archived.set(w, rec.archive);
      const weights = rec.status === 'completed'
        ? await submitWeights(this.deps.chain, p, this.archived.values(), { window: w, burnUid: this.deps.uid, every: this.o.weightsEvery, leadBlocks: this.o.weightsLeadBlocks }, this.lastEpoch)
        : null;
      if (weights) this.lastEpoch = weights.epochId;
      await this.crash('weights', w);
      rec = { ...rec, stage: 'done', weights };
      await putProgress(store, hot, rec);
      await this.pruneProgress(rec);
    }
    return windowReport(rec, key, resumedAt, Math.round((clock() - rec.openedAt) * 10) / 10);
  }

  /** Records are kept while a replay may need them: until a publish covers their training step. */
  private async pruneProgress(rec: ProgressRecord): Promise<void> {
    const { store, signer } = this.deps;
    if (rec.published) {
      for (const k of await store.list(progressPrefix(signer.ss58))) {
        const n = Number(/window-(\d+)\.json$/.exec(k)?.[1]);
        if (Number.isSafeInteger(n) && n <= rec.window) await dropProgress(store, signer.ss58, n);
      }
    } else if (!rec.batch || rec.train === null || !rec.train.applied) {
      await dropProgress(store, signer.ss58, rec.window);
    }
  }

  /** Held-out pass@1 of the trainer's current weights (`deps.heldOut`); run between windows. */
  async evalHeldOut(): Promise<HeldOutEval> {
    const h = this.deps.heldOut;
    if (!h) throw new Error('evalHeldOut: the node was started without a held-out eval (deps.heldOut)');
    const t0 = this.deps.clock();
    const model = new Qwen3Model(this.trainer.be, this.trainer.cfg, this.trainer.weights);
    const e = await passAtOneOf(model, { env: h.env, tokenizer: this.deps.tokenizer, profile: this.deps.profile, maxNewTokens: h.maxNewTokens, indices: h.indices, randomness: h.randomness });
    return { ...e, trainStep: this.trainer.state.scheduleStep, checkpointN: this.current.checkpointN, seconds: Math.round((this.deps.clock() - t0) * 1000) / 1000 };
  }

  /** Frees the trainer; a window still collecting stops at its next poll (as a killed process would). */
  close(): void {
    if (this.killed) return;
    this.killed = true;
    disposeTrainer(this.trainer);
  }
}
