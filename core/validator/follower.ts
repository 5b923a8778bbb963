/**
 * A follower validator (issue 16 part 6; design.md "Don't trust us. Replay it."): a validator configured to follow a
 * leader instead of running a market. It re-verifies every window from the leader's archives with core/audit
 * (bundles, signatures, proofs re-run on the replayed checkpoint, GRPO steps and checkpoint hashes), publishes its own
 * signed verdict per window, and reports the cross-validator acceptance spread: per window, how many proved groups
 * each validator accepted and which groups they disagree on.
 *
 * Published verdicts: `reliquary/<follower>/follow/<leader>/window-<w>.json`, signed by the follower over
 *   utf8("reliquary/follower-verdicts/v1\0") ‖ utf8(JSON.stringify(record without "signature")).
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
  readonly verdicts: readonly { readonly id: string; readonly env: string; readonly hotkey: string; readonly accepted: boolean; readonly reason: string | null }[];
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

/** Re-verifies the leader's windows, publishes the follower's verdicts, and compares them with the leader's. */
export async function follow(i: FollowerInput): Promise<FollowerResult> {
  const r = await auditValidator(i);
  const windows: FollowerWindow[] = [];
  for (const w of [...r.verdicts.keys()].sort((a, b) => a - b)) {
    const failed = r.lines.filter((l) => l.window === w && !l.ok).map((l) => l.check);
    const line = compareVerdicts(w, r.verdicts.get(w)!, failed);
    windows.push(line);
    if (i.publishTo) {
      const rec: FollowerVerdictRecord = {
        follower: i.signer.ss58, leader: i.validator, window: w, failed_checks: failed,
        verdicts: r.verdicts.get(w)!.map((x) => ({ id: x.id, env: x.env, hotkey: x.hotkey, accepted: x.replayed, reason: x.reason })),
      };
      await i.publishTo.put(followerVerdictKey(i.signer.ss58, i.validator, w), utf8(JSON.stringify({ ...rec, signature: i.signer.sign(signingBytes(rec)) })));
    }
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
