/**
 * `reliquary validator [--config F] [--store SPEC] [--env MODULE]… [--data DIR] [--port P] [--windows N] [--report FILE]`: a
 * standalone validator node. It assembles its store, chain, beacon and environments from the config through the
 * registry (assemble.ts; no config: the embedded model, the local chain and beacon, env-arith), serves the market API
 * and the node routes (node-routes.ts: miners in other processes read `/node` and register themselves) on
 * 127.0.0.1:P, and runs windows until stopped (SIGINT/SIGTERM) or N windows. Progress on stderr: each window's
 * lines and a live collection line every few seconds. `--report FILE` writes JSON: the windows (core/validator's
 * `WindowReport`), one row per miner `{ hotkey, name, submitted, accepted, won, paid }`, the last weights set on the
 * local chain, and with `--held-out` the held-out pass@1 before the first window and after the last. `--linger`
 * keeps serving after the last window until SIGINT/SIGTERM (the miners read their last verdicts), then evaluates and
 * writes the report: how `reliquary devnet` runs it (hosts/node/devnet/processes.ts). Miner names in the window
 * lines are those the miners registered with (`/node/register`); `--miners N` waits for N registrations.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { WindowReport } from '../../../core/validator/report.ts';
import { fastDevnetProfile } from '../devnet/devnet.ts';
import { chainWeightsOf, formatWindow, type ChainWeights } from '../devnet/report.ts';
import { startValidator, type HeldOutEval, type ValidatorHost } from '../devnet/validator-host.ts';
import { assembleValidator } from './assemble.ts';
import { ConfigError, EMPTY_CONFIG, loadConfig, withEnvModules } from './config.ts';
import { withStore } from './store-spec.ts';
import { followerCommand, type FollowerCommandOptions } from './follower-command.ts';
import { nodeRoutes, type NodeRegistrations } from './node-routes.ts';
import { dashboardFeed } from '../../../core/validator/dashboard.ts';
import { browserRoutes } from '../../browser/serve.ts';

export interface ValidatorCommandOptions extends Pick<FollowerCommandOptions, 'follow' | 'publish' | 'pollSeconds'> {
  config?: string;
  /** The object store (store-spec.ts): fs:DIR or s3://bucket/prefix?endpoint=URL; default store-fs under --data. */
  store?: string;
  env?: string[];
  data?: string;
  port?: string;
  windows?: string;
  report?: string;
  model?: string;
  /** Wait for this many registered miners before the first window. */
  miners?: string;
  /** Collection seconds (shorter windows for tests); default: the profile's. */
  collectionSeconds?: string;
  /** Held-out pass@1 before the first window and after the last, in the report. */
  heldOut?: boolean;
  /** After the last window, keep serving until SIGINT/SIGTERM, then evaluate and write the report. */
  linger?: boolean;
  quiet?: boolean;
}

export interface MinerRow {
  readonly hotkey: string;
  /** The name it registered with (absent: it registered before this run). */
  readonly name?: string;
  readonly submitted: number;
  readonly accepted: number;
  readonly won: number;
  readonly paid: number;
  readonly rejected: Readonly<Record<string, number>>;
}

export interface ValidatorRunReport {
  readonly validator: string;
  /** Its uid on the local chain: the burn uid of its weights. */
  readonly uid: number;
  readonly url: string;
  readonly profile: string;
  /** Windows tombstoned at startup (their journal was unreadable). */
  readonly recoveredTombstones: readonly number[];
  readonly environments: ValidatorHost['environments']['summary'];
  readonly environmentsDigest: string;
  readonly windows: readonly WindowReport[];
  readonly miners: readonly MinerRow[];
  /** With `--held-out`. */
  readonly heldOut: { readonly before: HeldOutEval; readonly after: HeldOutEval } | null;
  /** The last `setWeights` record of the local chain. */
  readonly chainWeights: ChainWeights | null;
  readonly seconds: number;
}

/** An integer flag in [min, max], or a one-line `ConfigError`. */
export function intFlag(v: string | undefined, dflt: number | undefined, flag: string, min: number, max: number): number | undefined {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new ConfigError(`${flag} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return n;
}

/** Per-miner rows over the windows run: traffic counts plus winners and payouts. */
export function minerRows(host: ValidatorHost, windows: readonly WindowReport[], exclude: string, names: ReadonlyMap<string, string> = new Map()): MinerRow[] {
  const rows = new Map<string, { submitted: number; accepted: number; won: number; paid: number; rejected: Record<string, number> }>();
  const row = (h: string) => {
    let r = rows.get(h);
    if (!r) rows.set(h, (r = { submitted: 0, accepted: 0, won: 0, paid: 0, rejected: {} }));
    return r;
  };
  for (const w of windows) {
    for (const [h, t] of host.traffic.window(w.window)) {
      const r = row(h);
      r.submitted += t.submitted;
      r.accepted += t.accepted;
      for (const [k, n] of Object.entries(t.rejected)) r.rejected[k] = (r.rejected[k] ?? 0) + n;
    }
    for (const x of w.winners) row(x.hotkey).won++;
    for (const [h, p] of Object.entries(w.payouts)) if (h !== exclude) row(h).paid += p;
  }
  return [...rows].filter(([h]) => h !== exclude).map(([hotkey, r]) => ({ hotkey, ...(names.has(hotkey) && { name: names.get(hotkey)! }), ...r, paid: Math.round(r.paid * 1e9) / 1e9 }));
}

/** Runs the validator; resolves to the exit code. */
export async function validatorCommand(opts: ValidatorCommandOptions, root: string): Promise<number> {
  // The follower role (follower-command.ts): --follow, or a config with "role": "follower".
  if (opts.follow !== undefined || (opts.config !== undefined && (await loadConfig(opts.config).catch(() => null))?.role === 'follower')) return followerCommand(opts, root);
  const err = (t: string): void => void process.stderr.write(`${t}\n`);
  const log = opts.quiet ? () => {} : err;
  let host: ValidatorHost | null = null;
  const stop = new AbortController();
  let lingering = false;
  const onSignal = (): void => {
    if (stop.signal.aborted) process.exit(130);
    if (!lingering) err('validator: stopping after this window (again to quit now)');
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const windows = intFlag(opts.windows, undefined, '--windows', 1, 1_000_000);
    const port = intFlag(opts.port, 0, '--port', 0, 65535)!;
    const waitMiners = intFlag(opts.miners, 1, '--miners', 0, 1000)!;
    const collection = intFlag(opts.collectionSeconds, undefined, '--collection-seconds', 2, 3600);
    const dataDir = resolve(process.cwd(), opts.data ?? './data');
    const config = withStore(withEnvModules(opts.config ? await loadConfig(opts.config) : EMPTY_CONFIG, opts.env ?? []), opts.store);
    const parts = await assembleValidator(config, { dataDir });
    const base = collection === undefined ? parts.baseProfile : fastDevnetProfile(collection, Math.min(parts.baseProfile.window.uploadGraceSeconds, 3), parts.baseProfile);
    const started = Date.now();
    const feed = dashboardFeed();
    const registered: NodeRegistrations = new Map();
    host = await startValidator({
      profile: base, envs: parts.environments.environments, store: parts.store, chain: parts.chain, beacon: parts.beacon,
      dataDir, modelDir: resolve(opts.model ?? resolve(root, 'models/tiny-arith')), port, log, progressEverySeconds: opts.quiet ? 0 : 2,
      onEvent: (e) => feed.observe(e),
      routes: (app, getHost) => {
        nodeRoutes(app, getHost, registered); // GET /node, POST /node/register, /node/archives, /node/beacon
        browserRoutes({ feed, host: getHost, env: parts.environments.summary[0]?.name })(app); // / (dashboard), /miner
      },
    });
    const h = host;
    let before: HeldOutEval | null = null;
    if (opts.heldOut) {
      // Before the "serving" line, so miners that wait for it do not compete with the eval for the CPU.
      log('validator: held-out pass@1 (before) …');
      before = await h.evalHeldOut();
      log(`held-out pass@1 before: ${before.passAt1.toFixed(3)} (${before.correct}/${before.problems}, ${before.seconds.toFixed(1)} s)`);
    }
    err(`validator ${h.hotkey} serving ${h.url} (environments ${h.environments.summary.map((e) => e.name).join(', ')}, digest ${h.environments.digest.slice(0, 12)})`);
    err(`  dashboard: ${h.url}/   browser miner: ${h.url}/miner`);
    err(`  join with: reliquary miner --validator ${h.url}`);
    if (waitMiners > 0) {
      log(`validator: waiting for ${waitMiners} miner(s) to register …`);
      for (;;) {
        if (registered.size >= waitMiners || stop.signal.aborted) break;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    const done: WindowReport[] = [];
    while (!stop.signal.aborted && (windows === undefined || done.length < windows)) {
      const w = await h.runWindow();
      done.push(w);
      if (!opts.quiet) for (const line of formatWindow(w, registered)) err(line);
    }
    if (opts.linger && !stop.signal.aborted) {
      lingering = true;
      err(`validator: ${done.length} windows done; serving until stopped (SIGINT/SIGTERM)`);
      await new Promise((r) => stop.signal.addEventListener('abort', r, { once: true }));
    }
    let after: HeldOutEval | null = null;
    if (before) {
      log('validator: held-out pass@1 (after) …');
      after = await h.evalHeldOut();
      log(`held-out pass@1 after: ${after.passAt1.toFixed(3)} (${after.correct}/${after.problems}, ${after.seconds.toFixed(1)} s)`);
    }
    const report: ValidatorRunReport = {
      validator: h.hotkey, uid: h.uid, url: h.url, profile: h.profile.id, recoveredTombstones: h.recoveredTombstones,
      environments: h.environments.summary, environmentsDigest: h.environments.digest,
      windows: done, miners: minerRows(h, done, h.hotkey, registered), heldOut: before && after && { before, after },
      chainWeights: await chainWeightsOf(h, done), seconds: (Date.now() - started) / 1000,
    };
    if (opts.report) await writeFile(opts.report, `${JSON.stringify(report, null, 2)}\n`);
    return done.some((w) => w.status === 'completed') || done.length === 0 ? 0 : 1;
  } catch (e) {
    err(`reliquary validator: ${e instanceof Error ? e.message : String(e)}`);
    if (!(e instanceof ConfigError) && process.env['RELIQUARY_DEBUG']) err(String((e as Error).stack));
    return e instanceof ConfigError ? 2 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await host?.close();
  }
}
