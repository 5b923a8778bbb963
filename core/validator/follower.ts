/**
 * A follower validator (issue 16 part 6; design.md "Don't trust us. Replay it."): a validator configured to follow a
 * leader instead of running a market. It re-verifies every window from the leader's archives with core/audit
 * (bundles, signatures, proofs re-run on the replayed checkpoint, GRPO steps and checkpoint hashes), publishes its own
 * signed verdict per window, and reports the cross-validator acceptance spread: per window, how many proved groups
 * each validator accepted and which groups they disagree on.
 *
 * Published verdicts: `reliquary/<follower>/follow/<leader>/window-<w>.json`, signed by the follower over
 *   utf8("reliquary/follower-verdicts/v1\0") ‖ utf8(JSON.stringify(record without "signature")),
 * one entry per proved group with the follower's verdict and the leader's archived one, so a reader (the leader's
 * dashboard, `readFollowerRecords`) has the spread from the record alone. The node mode is follower-node.ts.
 *
 * `follow` replays from the base model each call (the audit needs the whole training chain); a follower that polls
 * calls it with `from` = the first window it has not published yet.
 *
 * @example
 *   const f = await follow({ ...auditInput, validator: leaderSs58, signer: followerSigner, publishTo: store });
 *   f.windows[0];  // { window: 0, groups: 4, leaderAccepted: 4, followerAccepted: 4, agreement: 1, spread: 0, flagged: [] }
 *   formatFollowerReport(f);
 */
import { auditValidator, type AuditInput, type AuditLine, type GroupVerdict } from '../audit/audit.ts';
import type { ObjectStore } from '../interfaces/store.ts';
import { utf8 } from '../protocol/codec.ts';
import { verifySignature, type Signer } from '../protocol/sr25519.ts';

export const FOLLOWER_VERDICT_DOMAIN = 'reliquary/follower-verdicts/v1';

/** One window as the follower saw it. */
export interface FollowerWindow {
  readonly window: number;
  /** Proved groups compared. */
  readonly groups: number;
  readonly leaderAccepted: number;
  readonly followerAccepted: number;
  /** Share of groups both accept or both reject (1 when there are none). */
  readonly agreement: number;
  /** leader acceptance rate − follower acceptance rate. */
  readonly spread: number;
  /** The groups the two disagree on (the leader's verdict, the follower's, the follower's reason). */
  readonly flagged: readonly GroupVerdict[];
  /** The audit's failed checks of this window (the follower's verdicts stand either way). */
  readonly failedChecks: readonly string[];
}

export interface FollowerResult {
  readonly leader: string;
  readonly follower: string;
  readonly windows: readonly FollowerWindow[];
  /** Agreement over every compared group of every window. */
  readonly agreement: number;
  readonly auditOk: boolean;
  readonly lines: readonly AuditLine[];
}

export interface FollowerInput extends AuditInput {
  /** The follower's key: signs its published verdicts. */
  readonly signer: Signer;
  /** Where the follower publishes its verdicts (its own store; may be the leader's). Absent: not published. */
  readonly publishTo?: ObjectStore;
}

/** The signed verdict record of one window. */
export interface FollowerVerdictRecord {
  readonly follower: string;
  readonly leader: string;
  readonly window: number;
  /** Per proved group: the follower's verdict (`accepted`, `reason`) and the leader's archived one (`leader_accepted`). */
  readonly verdicts: readonly { readonly id: string; readonly env: string; readonly hotkey: string; readonly accepted: boolean; readonly reason: string | null; readonly leader_accepted: boolean }[];
  readonly failed_checks: readonly string[];
  readonly signature?: string;
}

export const followerVerdictKey = (follower: string, leader: string, window: number): string => `reliquary/${follower}/follow/${leader}/window-${window}.json`;

const signingBytes = (r: FollowerVerdictRecord): Uint8Array => {
  const { signature: _s, ...body } = r;
  return utf8(`${FOLLOWER_VERDICT_DOMAIN}\0${JSON.stringify(body)}`);
};

/** True when a published verdict record verifies for its follower. */
export function verifyFollowerVerdicts(r: FollowerVerdictRecord): boolean {
  return typeof r.signature === 'string' && verifySignature(signingBytes(r), r.signature, r.follower);
}

/** The window line of a set of verdicts. */
export function compareVerdicts(window: number, v: readonly GroupVerdict[], failedChecks: readonly string[]): FollowerWindow {
  const n = v.length;
  const leaderAccepted = v.filter((x) => x.leader).length;
  const followerAccepted = v.filter((x) => x.replayed).length;
  const flagged = v.filter((x) => x.leader !== x.replayed);
  return {
    window, groups: n, leaderAccepted, followerAccepted, agreement: n === 0 ? 1 : (n - flagged.length) / n,
    spread: n === 0 ? 0 : (leaderAccepted - followerAccepted) / n, flagged, failedChecks,
  };
}

/** Signs and stores the follower's verdicts of window `w` (its record, see the file header). */
export async function publishVerdicts(store: ObjectStore, signer: Signer, leader: string, w: number, v: readonly GroupVerdict[], failed: readonly string[]): Promise<FollowerVerdictRecord> {
  const rec: FollowerVerdictRecord = {
    follower: signer.ss58, leader, window: w, failed_checks: failed,
    verdicts: v.map((x) => ({ id: x.id, env: x.env, hotkey: x.hotkey, accepted: x.replayed, reason: x.reason, leader_accepted: x.leader })),
  };
  const signed = { ...rec, signature: signer.sign(signingBytes(rec)) };
  await store.put(followerVerdictKey(signer.ss58, leader, w), utf8(JSON.stringify(signed)));
  return signed;
}

/** The window line of a (verified) published record. */
export function windowOfRecord(r: FollowerVerdictRecord): FollowerWindow {
  const v = r.verdicts.map((x) => ({ id: x.id, env: x.env, hotkey: x.hotkey, leader: x.leader_accepted === true, replayed: x.accepted === true, reason: x.reason }));
  return compareVerdicts(r.window, v, r.failed_checks);
}

/** Every follower's verified verdict records about `leader` in `store` (forged or unreadable ones are left out). */
export async function readFollowerRecords(store: ObjectStore, leader: string): Promise<FollowerVerdictRecord[]> {
  const out: FollowerVerdictRecord[] = [];
  const keys = (await store.list('reliquary/')).filter((k) => k.includes(`/follow/${leader}/window-`));
  for (const key of keys) {
    try {
      const r = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode((await store.get(key))!)) as FollowerVerdictRecord;
      if (r.leader === leader && Array.isArray(r.verdicts) && key === followerVerdictKey(r.follower, leader, r.window) && verifyFollowerVerdicts(r)) out.push(r);
    } catch {
      // hostile or torn: not a record
    }
  }
  return out.sort((a, b) => a.window - b.window || (a.follower < b.follower ? -1 : 1));
}

/**
 * `readFollowerRecords` for a page that polls: the store is listed and the records read and verified at most once
 * per `refreshMs` (default 10 s), and requests that arrive meanwhile share that one read (or the one in flight). A
 * dashboard polled by many viewers then costs the validator one store listing per interval, not one per request.
 */
export function followerRecordsCache(store: ObjectStore, leader: string, o: { refreshMs?: number; now?: () => number } = {}): () => Promise<FollowerVerdictRecord[]> {
  const refreshMs = o.refreshMs ?? 10_000;
  const now = o.now ?? Date.now;
  let cached: { at: number; records: FollowerVerdictRecord[] } | null = null;
  let inflight: Promise<FollowerVerdictRecord[]> | null = null;
  return async () => {
    if (cached && now() - cached.at < refreshMs) return cached.records;
    if (!inflight) {
      const at = now();
      inflight = readFollowerRecords(store, leader)
        .then((records) => ((cached = { at, records }), records))
        .finally(() => (inflight = null));
    }
    return inflight;
  };
}

/** Re-verifies the leader's windows, publishes the follower's verdicts, and compares them with the leader's. */
export async function follow(i: FollowerInput): Promise<FollowerResult> {
  const r = await auditValidator(i);
  const windows: FollowerWindow[] = [];
  for (const w of [...r.verdicts.keys()].sort((a, b) => a - b)) {
    const failed = r.lines.filter((l) => l.window === w && !l.ok).map((l) => l.check);
    const line = compareVerdicts(w, r.verdicts.get(w)!, failed);
    windows.push(line);
    if (i.publishTo) await publishVerdicts(i.publishTo, i.signer, i.validator, w, r.verdicts.get(w)!, failed);
  }
  const total = windows.reduce((a, w) => a + w.groups, 0);
  const disagree = windows.reduce((a, w) => a + w.flagged.length, 0);
  return { leader: i.validator, follower: i.signer.ss58, windows, agreement: total === 0 ? 1 : (total - disagree) / total, auditOk: r.ok, lines: r.lines };
}

const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;

/** The cross-validator report: one line per window, the flagged groups, the overall agreement. */
export function formatFollowerReport(f: FollowerResult): string {
  const out = [`follower ${f.follower.slice(0, 12)}… of leader ${f.leader.slice(0, 12)}…: agreement ${pct(f.agreement)} of proved groups${f.auditOk ? '' : ' (audit failed checks)'}`];
  for (const w of f.windows) {
    out.push(`  window ${w.window}: ${w.groups} group(s), leader accepted ${w.leaderAccepted}, follower ${w.followerAccepted}, spread ${pct(w.spread)}, agreement ${pct(w.agreement)}`
      + `${w.failedChecks.length ? `, failed checks: ${w.failedChecks.join(', ')}` : ''}`);
    for (const g of w.flagged) out.push(`    flagged ${g.id.slice(0, 12)} (${g.hotkey.slice(0, 12)}…, ${g.env}): leader ${g.leader ? 'accepted' : 'rejected'}, follower ${g.replayed ? 'accepted' : `rejected ${g.reason}`}`);
  }
  return out.join('\n');
}
