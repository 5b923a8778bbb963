/**
 * The dashboard's state: a read-only view of what the validator node did, for a page that shows every window live
 * (hosts/browser/dashboard). It is built only from what the node already tells its host — the `window` events
 * (`WindowReport`), the held-out evals the host runs, the verdict log of each hotkey and the live FSM phase — so it
 * never touches the node's state and costs nothing when no page is open.
 *
 *   feed = dashboardFeed()
 *   node onEvent ──► feed.observe(e)        keeps the last `keepWindows` window reports
 *   host evalHeldOut ──► feed.heldOut(e)    held-out pass@1 per checkpoint
 *   GET /dashboard.json ──► feed.snapshot({ live, verdicts, followers })   plain JSON, one object per chart
 *
 * `followers`: the follower validators' published verdicts on this validator's windows (follower.ts
 * `readFollowerRecords` → `windowOfRecord`), shown as the cross-validator acceptance spread per window.
 *
 * Per-miner in-zone share is the devnet report's definition: groups whose verdicts put them in the pool over groups
 * the validator queued (distinct Merkle roots in the hotkey's verdict log).
 *
 * @example
 *   const feed = dashboardFeed();
 *   const node = await startValidatorNode({ …, onEvent: (e) => feed.observe(e) }, o);
 *   app.get('/dashboard.json', (c) => c.json(feed.snapshot({ live: liveOf(node.validator), verdicts })));
 */
import type { Verdict } from '../protocol/wire.ts';
import type { FollowerWindow } from './follower.ts';
import type { HeldOutEval, WindowReport } from './report.ts';
import type { ValidatorEvent } from './validator-node.ts';

/** One window on the timeline. */
export interface DashboardWindow {
  readonly window: number;
  readonly status: WindowReport['status'];
  readonly trigger: string;
  /** Seconds spent collecting, proving and training. */
  readonly seconds: WindowReport['seconds'];
  /** Groups admitted to the pool (in zone). */
  readonly accepted: number;
  /** Refusals (admission and proof) by reason. */
  readonly rejects: Readonly<Record<string, number>>;
  /** accepted + every refusal: what the validator received and judged. */
  readonly submitted: number;
  readonly winners: number;
  /** hotkey → share of the window's emission. */
  readonly payouts: Readonly<Record<string, number>>;
  readonly burned: number;
  /** The checkpoint this window published (null: none). */
  readonly published: { readonly checkpointN: number; readonly revision: string } | null;
  readonly loss: number | null;
  readonly meanReward: number | null;
  readonly failure: string | null;
}

/** One checkpoint with its held-out pass@1 where the validator measured it. */
export interface DashboardCheckpoint {
  readonly checkpointN: number;
  readonly revision: string | null;
  readonly window: number | null;
  readonly passAt1: number | null;
  readonly problems: number | null;
}

/** One miner across the kept windows. */
export interface DashboardMiner {
  readonly hotkey: string;
  /** Groups the validator queued for it (distinct Merkle roots in its verdicts). */
  readonly submitted: number;
  /** Of those, groups in the pool (in zone). */
  readonly accepted: number;
  readonly inZoneShare: number;
  /** Groups that won (selected and paid). */
  readonly won: number;
  /** Sum of its emission shares over the kept windows. */
  readonly earned: number;
  /** Its latest chain weight (0 when it has none). */
  readonly weight: number;
}

/** The validator's phase now. */
export interface DashboardLive {
  readonly phase: string;
  readonly window: number;
}

/** What `/dashboard.json` serves. */
export interface DashboardSnapshot {
  /** Bumps on every change the feed sees (a page may skip rendering an unchanged one). */
  readonly version: number;
  readonly live: DashboardLive | null;
  readonly windows: readonly DashboardWindow[];
  readonly checkpoints: readonly DashboardCheckpoint[];
  readonly miners: readonly DashboardMiner[];
  /** The last weights set on the chain: hotkey → weight, plus the burn. */
  readonly weights: { readonly window: number; readonly byHotkey: Readonly<Record<string, number>>; readonly burn: number } | null;
  /** Cross-validator acceptance spread per window and follower (follower.ts records; empty when none published). */
  readonly followers: readonly DashboardFollowerWindow[];
}

/** One follower's verdicts on one window against this validator's. */
export interface DashboardFollowerWindow {
  readonly window: number;
  readonly follower: string;
  /** Proved groups compared. */
  readonly groups: number;
  readonly leaderAccepted: number;
  readonly followerAccepted: number;
  /** leader acceptance rate − follower acceptance rate. */
  readonly spread: number;
  readonly agreement: number;
  /** Ids of the groups the two disagree on. */
  readonly flagged: readonly string[];
}

export interface DashboardOptions {
  /** Window reports kept (oldest dropped). */
  keepWindows: number;
}

export const DASHBOARD_DEFAULTS: Readonly<DashboardOptions> = Object.freeze({ keepWindows: 200 });

export interface DashboardFeed {
  /** Feed every node event here; only `window` events are kept. */
  observe(e: ValidatorEvent): void;
  /** Record a held-out eval of the validator's model. */
  heldOut(e: HeldOutEval): void;
  /** The state now; `verdicts` is each hotkey's verdict log (for the per-miner split). */
  snapshot(inputs?: { live?: DashboardLive | null; verdicts?: ReadonlyMap<string, readonly Verdict[]>; followers?: readonly { readonly follower: string; readonly window: FollowerWindow }[] }): DashboardSnapshot;
}

const sum = (xs: Iterable<number>): number => {
  let s = 0;
  for (const x of xs) s += x;
  return s;
};

/** The timeline row of one window report. */
export function dashboardWindow(r: WindowReport): DashboardWindow {
  const rejected = sum(Object.values(r.rejects));
  return {
    window: r.window, status: r.status, trigger: r.trigger, seconds: r.seconds,
    accepted: r.poolSize, rejects: r.rejects, submitted: r.poolSize + rejected, winners: r.winners.length,
    payouts: r.payouts, burned: r.burned,
    published: r.published ? { checkpointN: r.published.checkpointN, revision: r.published.revision } : null,
    loss: r.train?.applied ? r.train.loss : null, meanReward: r.train ? r.train.meanReward : null, failure: r.failure,
  };
}

/** Per-miner groups in the pool over groups queued, from each hotkey's verdict log and the kept reports. */
export function dashboardMiners(
  reports: readonly WindowReport[], verdicts: ReadonlyMap<string, readonly Verdict[]>, weights: Readonly<Record<string, number>>,
): DashboardMiner[] {
  const hotkeys = new Set<string>(verdicts.keys());
  for (const r of reports) for (const h of Object.keys(r.payouts)) hotkeys.add(h);
  return [...hotkeys].sort().map((hotkey) => {
    const roots = new Set<string>();
    const inPool = new Set<string>();
    for (const v of verdicts.get(hotkey) ?? []) {
      roots.add(v.merkle_root);
      if (v.accepted_into_pool === true) inPool.add(v.merkle_root);
    }
    const won = sum(reports.map((r) => r.winners.filter((w) => w.hotkey === hotkey).length));
    const earned = sum(reports.map((r) => r.payouts[hotkey] ?? 0));
    return {
      hotkey, submitted: roots.size, accepted: inPool.size, inZoneShare: roots.size ? inPool.size / roots.size : 0,
      won, earned, weight: weights[hotkey] ?? 0,
    };
  });
}

/** A dashboard feed with `options` merged over `DASHBOARD_DEFAULTS`. */
export function dashboardFeed(options: Partial<DashboardOptions> = {}): DashboardFeed {
  const o: DashboardOptions = { ...DASHBOARD_DEFAULTS, ...options };
  const reports: WindowReport[] = [];
  const evals = new Map<number, HeldOutEval>();
  let version = 0;

  function checkpoints(): DashboardCheckpoint[] {
    const out = new Map<number, DashboardCheckpoint>();
    for (const r of reports) {
      if (r.published) out.set(r.published.checkpointN, { checkpointN: r.published.checkpointN, revision: r.published.revision, window: r.window, passAt1: null, problems: null });
    }
    for (const e of evals.values()) {
      const c = out.get(e.checkpointN);
      out.set(e.checkpointN, { checkpointN: e.checkpointN, revision: c?.revision ?? null, window: c?.window ?? null, passAt1: e.passAt1, problems: e.problems });
    }
    return [...out.values()].sort((a, b) => a.checkpointN - b.checkpointN);
  }

  return {
    observe: function observe(e) {
      if (e.kind !== 'window') return;
      const at = reports.findIndex((r) => r.window === e.report.window);
      if (at >= 0) reports[at] = e.report;
      else reports.push(e.report);
      reports.sort((a, b) => a.window - b.window);
      if (reports.length > o.keepWindows) reports.splice(0, reports.length - o.keepWindows);
      version++;
    },
    heldOut: function heldOut(e) {
      evals.set(e.checkpointN, e);
      version++;
    },
    snapshot: function snapshot(inputs = {}) {
      const lastWeights = [...reports].reverse().find((r) => r.weights !== null);
      const byHotkey = lastWeights?.weights?.byHotkey ?? {};
      return {
        version,
        live: inputs.live ?? null,
        windows: reports.map(dashboardWindow),
        checkpoints: checkpoints(),
        miners: dashboardMiners(reports, inputs.verdicts ?? new Map(), byHotkey),
        weights: lastWeights?.weights ? { window: lastWeights.window, byHotkey: lastWeights.weights.byHotkey, burn: lastWeights.weights.burn } : null,
        followers: (inputs.followers ?? []).map(({ follower, window: w }) => ({
          window: w.window, follower, groups: w.groups, leaderAccepted: w.leaderAccepted, followerAccepted: w.followerAccepted,
          spread: w.spread, agreement: w.agreement, flagged: w.flagged.map((g) => g.id),
        })),
      };
    },
  };
}
