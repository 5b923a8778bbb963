/**
 * The validator node's restart recovery (core/validator/validator-node.ts runs what it plans), from the store alone:
 *
 *   checkpoint  the manifest's last published checkpoint and its trainer state (else the base checkpoint)
 *   replay      training steps lost with the process after the last publish, re-run from their progress records'
 *               batches in window order (the step is deterministic in the weights and the batch)
 *   unfinished  sealed windows whose later steps are not done: the next `runWindow` calls finish them
 *   journal     the last activated window with neither archive nor seal resumes from its journal; a window whose
 *               journal is unreadable is tombstoned (one archive per activated window)
 *   cooldowns   snapshots + a gap replay of the archives, the unfinished windows' archives included
 *   manifest    the published checkpoint is announced with its custody block (core/audit/custody.ts), as at its publish
 *
 * The accumulator restarts empty.
 *
 * @example
 *   const node = await startValidatorNode(deps, { runId: 'devnet' });
 *   node.recovery; // { tombstones, resumed, unfinished, replayedSteps }
 */
import { emptyAccumulator, initialPublishState, type PublishState } from '../market/accumulator.ts';
import { archiveKey, type WindowArchive } from '../market/archive.ts';
import type { PoolEntry } from '../market/book.ts';
import { loadArchives, planRecovery, restartTombstone, restoreCooldowns, WindowJournal, type JournalRead } from '../market/journal.ts';
import type { MarketValidatorOptions } from '../market/validator-service.ts';
import { loadCheckpoint } from '../model/checkpoint.ts';
import { utf8 } from '../protocol/codec.ts';
import { readTrainerState } from '../training/state.ts';
import { createTrainer, trainStep, type Trainer } from '../training/trainer.ts';
import { loadBatch, readProgress, reached, type ProgressRecord } from './progress.ts';
import { baseCheckpoint, defaultCheckpointKeys, manifestOf, readPublished, type CheckpointKeys } from './publish.ts';
import { restoredCustody } from '../audit/custody.ts';
import type { PublishedCheckpoint } from './report.ts';
import { ValidatorNode, VALIDATOR_DEFAULTS, type ValidatorNodeDeps, type ValidatorNodeOptions } from './validator-node.ts';

/** What recovery found at start. */
export interface Recovery {
  /** Tombstones written for activated windows whose journal was unreadable. */
  readonly tombstones: readonly number[];
  /** The window resumed from its journal (its next `runWindow` seals it) and how many groups came back. */
  readonly resumed: { readonly window: number; readonly groups: number } | null;
  /** Sealed windows whose later steps the next `runWindow` calls finish, with the stage each had reached. */
  readonly unfinished: readonly { readonly window: number; readonly stage: string }[];
  /** Training steps replayed from progress records (lost with the process after the last publish). */
  readonly replayedSteps: readonly number[];
}

const windowsOf = (keys: readonly string[]): number[] => keys.map((k) => Number(/window-(\d+)\.json$/.exec(k)?.[1])).filter(Number.isSafeInteger);

/** Recovers from the store and returns a node ready to run windows (see the file header). */
export async function startValidatorNode(deps: ValidatorNodeDeps, options: Partial<ValidatorNodeOptions> = {}): Promise<ValidatorNode> {
  const o: ValidatorNodeOptions = { ...VALIDATOR_DEFAULTS, ...options };
  const { profile: p, store, signer } = deps;
  const hot = signer.ss58;
  const log = (line: string): void => deps.onEvent?.({ kind: 'log', line });
  const keys = o.checkpointKeys ?? defaultCheckpointKeys(hot);
  const io = deps.checkpoints;

  const base = await baseCheckpoint(io);
  const published = await readPublished(store, keys);
  const current = published ?? base;
  const trainer = createTrainer(deps.backend, await loadCheckpoint(io.fs, current.dir), p, published ? await readTrainerState(io.fs, published.dir) : null);

  // Post-seal progress: replay the steps lost with the process, queue the unfinished windows.
  const progress = await readProgress(store, hot);
  for (const s of progress.skipped) log(`validator: progress: ignored an unreadable record: ${s}`);
  const replayedSteps: number[] = [];
  let trainedSince = 0;
  for (const r of progress.records) {
    if (!r.batch || !reached(r.stage, 'trained') || r.window <= (trainer.state.windowCursor ?? -1)) continue;
    const rec = await trainStep(trainer, loadBatch(r.batch), { window: r.window });
    replayedSteps.push(r.window);
    if (rec.applied) trainedSince++;
    log(`validator: replayed the training step of window ${r.window} (lost with the process after the last publish)`);
  }
  const unfinished = progress.records.filter((r) => r.stage !== 'done');

  // Journal recovery: one archive per activated window.
  const journal = new WindowJournal(store, hot, p);
  const archivePrefix = archiveKey(hot, 0).replace(/window-0\.json$/, '');
  const sealed = [...windowsOf(await store.list(archivePrefix)), ...progress.records.map((r) => r.window)];
  const legacy = o.legacyActivatedPrefix ? windowsOf(await store.list(o.legacyActivatedPrefix)) : [];
  const plan = await planRecovery(journal, sealed, legacy);
  for (const t of plan.tombstones) {
    await store.put(archiveKey(hot, t.window), utf8(JSON.stringify(restartTombstone(p, signer, t))));
    log(`validator: window ${t.window} has no archive and cannot be resumed (${t.reason}): tombstone archived`);
  }
  for (const s of plan.skipped) log(`validator: journal: skipped a torn record: ${s}`);
  const { archives, dropped } = await loadArchives(store, hot);
  for (const d of dropped) log(`validator: archive dropped from the cooldown replay: ${d}`);
  const withUnfinished = [...archives, ...unfinished.map((r) => r.archive)];
  const market = {
    ...(await restoreCooldowns(store, { runId: o.runId, profile: p, archives: withUnfinished, current: plan.nextWindow })),
    accumulator: emptyAccumulator<PoolEntry>(Object.fromEntries(p.environmentMix)),
  };
  const publishState: PublishState = { ...initialPublishState(current.checkpointN), trainedSinceLastPublish: trainedSince, everTrained: current.checkpointN > 0 || trainedSince > 0 };
  const node = new ValidatorNode(deps, o, { journal, keys, base, current, trainer, publishState, resume: plan.resume, unfinished, archives, market, nextWindow: plan.nextWindow });
  // The manifest announced from now on carries its custody back to the base model, as the one announced at its publish did.
  if (published) node.validator.setCheckpoint(manifestOf(published, signer, await restoredCustody(store, signer, published, keys.index, base, manifestOf(published, signer))));
  node.recovery = {
    tombstones: plan.tombstones.map((t) => t.window),
    resumed: plan.resume ? { window: plan.resume.activation.window, groups: plan.resume.groups.length } : null,
    unfinished: unfinished.map((r) => ({ window: r.window, stage: r.stage })),
    replayedSteps,
  };
  return node;
}

export interface Recovered {
  readonly journal: WindowJournal;
  readonly keys: CheckpointKeys;
  readonly base: PublishedCheckpoint;
  readonly current: PublishedCheckpoint;
  readonly trainer: Trainer;
  readonly publishState: PublishState;
  readonly resume: Extract<JournalRead, { ok: true }> | null;
  readonly unfinished: readonly ProgressRecord[];
  readonly archives: readonly WindowArchive[];
  readonly market: MarketValidatorOptions['market'];
  readonly nextWindow: number;
}

