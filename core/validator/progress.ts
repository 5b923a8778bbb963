/**
 * The durable per-window progress record of the validator's post-seal steps (seal → train → publish → archive →
 * weights), so that a restart at any step boundary continues from the last completed step and never repeats a
 * non-idempotent one: no second seal (the signed archive is kept from the first), no second training step for a
 * window, no second checkpoint, no second archive.
 *
 * One record per window, `reliquary/<validator>/progress/window-<N>.json`, rewritten (atomic `put`) as the window
 * advances:
 *
 *   stage      written after                  carries
 *   sealed     the seal, before training       the signed archive, the training batch (when the accumulator was
 *                                             ready), what the report needs (pool, winners, rejects, timings)
 *   trained    the training step              the step line and whether the publish cadence made a publish due
 *   published  the publish (or none due)      the checkpoint published for this window, if any
 *   archived   the archive under its key      (the cooldown snapshots and the journal prune follow)
 *   done       the weights                    the weights line
 *
 * What is *not* in the record is read from the place that is the truth for it: a window is trained iff the trainer's
 * durable `trained_window_cursor` (saved with each published checkpoint) has reached it; a window is published iff
 * the checkpoint manifest names it. Training steps after the last publish live only in memory, so a restart replays
 * them from their records' batches (the step is deterministic in the weights and the batch); records are therefore
 * kept until a publish covers them, then pruned. Every record is `{progress: 1, sha256, record}` (checksum over
 * `JSON.stringify(record)`); one that does not decode is ignored (the window then resumes from its journal).
 *
 * @example
 *   await putProgress(store, hotkey, { ...sealedRecord, stage: 'sealed' });
 *   const all = await readProgress(store, hotkey);   // sorted by window, corrupt records named in `skipped`
 */
import type { ObjectStore } from '../interfaces/store.ts';
import type { WindowArchive } from '../market/archive.ts';
import { hex, utf8 } from '../protocol/codec.ts';
import { sha256 } from '../protocol/hash.ts';
import type { StepEnvironment } from '../training/trainer.ts';
import { decodePiOld, encodePiOld } from '../audit/pi-old.ts';
import type { PublishedCheckpoint, TrainLine, WeightsLine, WindowReport } from './report.ts';

export const PROGRESS_VERSION = 1;

/** The post-seal steps, in order. */
export const STAGES = ['sealed', 'trained', 'published', 'archived', 'done'] as const;
export type Stage = (typeof STAGES)[number];

/** `a` is at or past `b`. */
export const reached = (a: Stage, b: Stage): boolean => STAGES.indexOf(a) >= STAGES.indexOf(b);

/** One training rollout as stored (the trainer's `StepRollout`). */
export interface StoredRollout {
  readonly tokens: readonly number[];
  readonly promptLen: number;
  readonly reward: number;
  /** The seal's recomputed π_old (core/audit/pi-old.ts encoding); absent: the trainer recomputes it (§1.7 rung 2). */
  readonly piOld?: string;
}

/** The training batch of a window, per environment in the profile's `environmentMix` order. */
export interface StoredBatch {
  readonly envs: readonly { readonly name: string; readonly maxNewTokens: number; readonly groups: readonly (readonly StoredRollout[])[] }[];
}

/** What the window report needs from the seal, kept so a resumed window reports like an uninterrupted one. */
export type SealFacts = Pick<WindowReport, 'transitions' | 'trigger' | 'poolSize' | 'checkpointRevision' | 'sealRandomness' | 'winners' | 'rejects' | 'failure'> & {
  readonly seconds: { readonly collect: number; readonly proof: number };
};

export interface ProgressRecord {
  readonly window: number;
  readonly stage: Stage;
  readonly status: 'completed' | 'aborted';
  /** When the window opened (unix seconds): the report's phase times. */
  readonly openedAt: number;
  /** The signed archive, exactly as it will be (was) written under its archive key. */
  readonly archive: WindowArchive;
  /** The training batch when the accumulator was ready at the seal, else null. */
  readonly batch: StoredBatch | null;
  readonly seal: SealFacts;
  /** The proof forward's π_old of every group proved at the seal, by group id, one encoded rollout each (pi-old.ts). */
  readonly piOld?: Readonly<Record<string, readonly string[]>>;
  /** From `trained` on: the step (null when none ran: no batch, or the durable cursor had passed the window). */
  readonly train: TrainLine | null;
  /** From `trained` on: the publish cadence asked for a publish after this window. */
  readonly publishDue: boolean;
  /** From `published` on: the checkpoint published for this window. */
  readonly published: PublishedCheckpoint | null;
  readonly trainSeconds: number;
  /** At `done`: the weights set after the window (null: none were due). */
  readonly weights: WeightsLine | null;
}

export const progressPrefix = (validator: string): string => `reliquary/${validator}/progress/`;
export const progressKey = (validator: string, window: number): string => `${progressPrefix(validator)}window-${window}.json`;

const digest = (record: unknown): string => hex(sha256(utf8(JSON.stringify(record))));

/** Writes (replaces) a window's progress record. */
export async function putProgress(store: ObjectStore, validator: string, rec: ProgressRecord): Promise<void> {
  await store.put(progressKey(validator, rec.window), utf8(JSON.stringify({ progress: PROGRESS_VERSION, sha256: digest(rec), record: rec })));
}

/** Decodes one record, or says why it is not one. */
export function decodeProgress(bytes: Uint8Array): { ok: true; record: ProgressRecord } | { ok: false; error: string } {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    return { ok: false, error: `not UTF-8 JSON (${e instanceof Error ? e.message : String(e)})` };
  }
  const o = v as { progress?: unknown; sha256?: unknown; record?: unknown } | null;
  if (o === null || typeof o !== 'object' || o.progress !== PROGRESS_VERSION) return { ok: false, error: 'not a progress record of this version' };
  if (o.record === null || typeof o.record !== 'object' || o.sha256 !== digest(o.record)) return { ok: false, error: 'checksum mismatch' };
  const r = o.record as ProgressRecord;
  if (!Number.isSafeInteger(r.window) || !STAGES.includes(r.stage) || typeof r.archive !== 'object' || r.archive === null) {
    return { ok: false, error: 'fields do not describe a window' };
  }
  return { ok: true, record: r };
}

/** Every readable progress record, by window; unreadable ones are named in `skipped`. */
export async function readProgress(store: ObjectStore, validator: string): Promise<{ records: ProgressRecord[]; skipped: string[] }> {
  const records: ProgressRecord[] = [];
  const skipped: string[] = [];
  for (const key of await store.list(progressPrefix(validator))) {
    const bytes = await store.get(key);
    const d = bytes === null ? ({ ok: false, error: 'vanished' } as const) : decodeProgress(bytes);
    if (d.ok) records.push(d.record);
    else skipped.push(`${key}: ${d.error}`);
  }
  return { records: records.sort((a, b) => a.window - b.window), skipped };
}

/** Drops a window's record (stores without `delete` keep it; a kept record is harmless once `done`). */
export async function dropProgress(store: ObjectStore, validator: string, window: number): Promise<void> {
  await store.delete?.(progressKey(validator, window));
}

/** The stored form of a trainer batch (π_old as the seal computed it: f32 bytes, pi-old.ts). */
export function storeBatch(envs: readonly StepEnvironment[]): StoredBatch {
  return {
    envs: envs.map((e) => ({
      name: e.name, maxNewTokens: e.maxNewTokens,
      groups: e.groups.map((g) => g.map((r) => ({
        tokens: Array.from(r.tokens), promptLen: r.promptLen, reward: r.reward,
        ...(r.logpOld ? { piOld: encodePiOld(Float32Array.from(r.logpOld)) } : {}),
      }))),
    })),
  };
}

/** The trainer batch of a stored one; a π_old that does not decode is left out (the trainer then recomputes it). */
export function loadBatch(b: StoredBatch): StepEnvironment[] {
  return b.envs.map((e) => ({
    name: e.name, maxNewTokens: e.maxNewTokens,
    groups: e.groups.map((g) => g.map((r) => {
      const logpOld = r.piOld === undefined ? null : decodePiOld(r.piOld, r.tokens.length - r.promptLen);
      return { tokens: Int32Array.from(r.tokens), promptLen: r.promptLen, reward: r.reward, ...(logpOld ? { logpOld } : {}) };
    })),
  }));
}
