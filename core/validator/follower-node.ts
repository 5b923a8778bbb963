/**
 * The follower validator as a node (issue 16; design.md "Don't trust us. Replay it."): a validator configured with
 * `role: follower` runs no market. It polls the leader's store for newly sealed windows (their signed archives),
 * re-verifies each one in window order with the audit's replay (core/audit/audit.ts `AuditReplay`: bundles,
 * signatures, re-grading, proofs and π_old re-derived on the replayed checkpoint, GRPO steps, checkpoint hashes,
 * custody manifests), publishes its own signed verdicts per window (follower.ts `publishVerdicts`) and keeps the
 * cross-validator acceptance spread for its report and routes.
 *
 * The replay state lives across polls (the trainer is replayed once, window after window), so a poll costs the new
 * windows only. A window is taken when its archive exists: the leader writes it after its bundle and its publish.
 *
 * @example
 *   const f = await FollowerNode.start({ ...auditInput, store: leaderStore, validator: leaderSs58, signer, publishTo });
 *   await f.run({ pollSeconds: 2, signal });  // or: await f.poll() → the windows verified this time
 *   f.result();                                // { leader, follower, windows, agreement, auditOk, lines }
 */
import { archiveKey } from '../market/archive.ts';
import { AuditReplay, readArchive, type AuditInput, type AuditLine } from '../audit/audit.ts';
import type { ObjectStore } from '../interfaces/store.ts';
import type { Signer } from '../protocol/sr25519.ts';
import { compareVerdicts, publishVerdicts, type FollowerResult, type FollowerWindow } from './follower.ts';

export type FollowerEvent =
  | { readonly kind: 'line'; readonly line: AuditLine }
  | { readonly kind: 'window'; readonly window: FollowerWindow }
  | { readonly kind: 'log'; readonly line: string };

export interface FollowerNodeDeps extends Omit<AuditInput, 'from' | 'to' | 'onLine'> {
  /** The follower's key: signs its published verdicts. */
  readonly signer: Signer;
  /** Where the follower publishes its verdicts (its own store; may be the leader's). */
  readonly publishTo: ObjectStore;
  readonly sleep: (seconds: number) => Promise<void>;
  readonly onEvent?: (e: FollowerEvent) => void;
}

export class FollowerNode {
  readonly windows: FollowerWindow[] = [];
  private last = -1;

  private constructor(private readonly d: FollowerNodeDeps, private readonly replay: AuditReplay) {}

  /** A follower at the base model (nothing verified yet). */
  static async start(d: FollowerNodeDeps): Promise<FollowerNode> {
    return new FollowerNode(d, await AuditReplay.open({ ...d, onLine: (line) => d.onEvent?.({ kind: 'line', line }) }));
  }

  /** The leader's archived windows not verified yet, in order. */
  private async pending(): Promise<number[]> {
    const prefix = archiveKey(this.d.validator, 0).replace(/window-0\.json$/, '');
    return (await this.d.store.list(prefix)).map((k) => Number(/window-(\d+)\.json$/.exec(k)?.[1]))
      .filter((w) => Number.isSafeInteger(w) && w > this.last).sort((a, b) => a - b);
  }

  /** Verifies every newly archived window of the leader, in order; returns their lines (windows with proved groups). */
  async poll(): Promise<FollowerWindow[]> {
    const out: FollowerWindow[] = [];
    for (const w of await this.pending()) {
      const a = await readArchive(this.d.store, this.d.validator, w);
      if (a === null) break; // listed, then gone: retried at the next poll
      const before = this.replay.lines.length;
      await this.replay.window(w, a);
      this.last = w; // replayed: never again, whatever follows
      try {
        await this.replay.manifests(w);
      } catch (e) {
        this.d.onEvent?.({ kind: 'log', line: `follower: window ${w}: custody manifests unreadable now (${e instanceof Error ? e.message : String(e)}); checked with the next window` });
      }
      const v = this.replay.verdicts.get(w);
      if (!v) continue; // a tombstone or an unreadable window: its audit lines say which
      const failed = [...new Set(this.replay.lines.slice(before).filter((l) => !l.ok).map((l) => l.check))];
      await publishVerdicts(this.d.publishTo, this.d.signer, this.d.validator, w, v, failed);
      const line = compareVerdicts(w, v, failed);
      this.windows.push(line);
      out.push(line);
      this.d.onEvent?.({ kind: 'window', window: line });
    }
    return out;
  }

  /** Polls every `pollSeconds` until `signal` aborts or `windows` windows with verdicts are verified. */
  async run(o: { readonly pollSeconds: number; readonly signal?: AbortSignal; readonly windows?: number }): Promise<FollowerResult> {
    while (!o.signal?.aborted && (o.windows === undefined || this.windows.length < o.windows)) {
      let got: FollowerWindow[] = [];
      try {
        got = await this.poll();
      } catch (e) { // the leader's store unreachable: the next poll retries the window
        this.d.onEvent?.({ kind: 'log', line: `follower: poll failed (${e instanceof Error ? e.message : String(e)}); retrying` });
      }
      if (got.length === 0) await this.d.sleep(o.pollSeconds);
    }
    return this.result();
  }

  /** The cross-validator report so far. */
  result(): FollowerResult {
    const total = this.windows.reduce((a, w) => a + w.groups, 0);
    const disagree = this.windows.reduce((a, w) => a + w.flagged.length, 0);
    return {
      leader: this.d.validator, follower: this.d.signer.ss58, windows: [...this.windows],
      agreement: total === 0 ? 1 : (total - disagree) / total, auditOk: this.replay.ok, lines: [...this.replay.lines],
    };
  }

  /** Frees the replayed trainer. */
  close(): void {
    this.replay.close();
  }
}
