/**
 * `reliquary miner --validator URL [--config F] [--env MODULE]… [--data DIR] [--windows N] [--report FILE]`: a
 * standalone miner node. On first run it creates its hotkey and coldkey seeds in DIR (`miner-hotkey.seed`,
 * `miner-coldkey.seed`, mode 0600); it reads the validator's `/node`, checks that its own environment set (from the
 * config through the registry, default env-arith) is the validator's — a difference is one line naming it —
 * registers itself on the validator's local chain (`/node/register`), starts from the checkpoint the validator
 * announces (verified: signed manifest, revision of the weights) and mines until stopped or N windows. Before each
 * window it checks the window's randomness against the beacon round the validator opened it on (`/node/beacon`,
 * BLS-verified by plugins/beacon-drand under the miner's own quicknet key when the validator uses drand); a window
 * that fails is skipped with its reason. The selector's feed reads the validator's signed archives (`/node/archives`).
 * `--report FILE` writes `{ name, hotkey, validator, selector, windows: [WindowStats], reloads, refusals, refusedWindows }`.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { checkCheckpoint } from '../../../core/miner/checkpoint-check.ts';
import type { WindowCheck } from '../../../core/miner/index.ts';
import type { WindowStats } from '../../../core/miner/stats.ts';
import type { Profile } from '../../../core/profile/index.ts';
import type { GrpoBatchState } from '../../../core/protocol/wire.ts';
import { beaconMaxAgeSeconds, verifyWindowBeacon } from '../../../plugins/beacon-drand/index.ts';
import { environmentSetDifference } from '../../../core/plugins/environment-set.ts';
import { signerFromSeed } from '../../../core/protocol/sr25519.ts';
import { httpClient } from '../../../plugins/transport-http/index.ts';
import { fastDevnetProfile } from '../devnet/devnet.ts';
import { startMiner, type MinerHost } from '../devnet/miner-host.ts';
import { nodeCheckpointFs } from '../fs-checkpoint.ts';
import { assembleMiner } from './assemble.ts';
import { ConfigError, EMPTY_CONFIG, loadConfig, withEnvModules } from './config.ts';
import { fetchArchives, fetchWindowBeacon, nodeInfo, registerMiner } from './node-routes.ts';
import { intFlag } from './validator-command.ts';

export interface MinerCommandOptions {
  validator?: string;
  config?: string;
  env?: string[];
  data?: string;
  windows?: string;
  /** Groups per window (default: the hotkey quota). */
  groups?: string;
  report?: string;
  name?: string;
  quiet?: boolean;
  /** Oldest drand round (seconds) a window may open on; `off` skips the check (recorded beacons). Default from the profile. */
  beaconMaxAge?: string;
}

/** A 32-byte seed kept in `file` (created on first use, readable by the owner only). */
async function keySeed(file: string): Promise<Uint8Array> {
  try {
    const b = new Uint8Array(await readFile(file));
    if (b.length === 32) return b;
    throw new ConfigError(`${file} is not a 32-byte key seed; move it away to create a new key`);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new ConfigError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const seed = crypto.getRandomValues(new Uint8Array(32));
  await writeFile(file, seed, { mode: 0o600 });
  await chmod(file, 0o600);
  return seed;
}

/**
 * The window check of a miner of `baseUrl`: the beacon proof of the open window (`/node/beacon`) verified against
 * `/state`'s randomness. No answer yet (window moved on, validator busy, network) is null: asked again next tick.
 * A validator that serves no proof at all (an older node) is said once, and its windows are mined unverified.
 */
export function beaconWindowCheck(
  baseUrl: string, profile: Profile, log: (line: string) => void, name: string, firstWindow = 0,
  maxAgeSeconds: number | null = beaconMaxAgeSeconds(profile), now: () => number = () => Date.now() / 1000,
): (state: GrpoBatchState) => Promise<WindowCheck | null> {
  let unserved = false;
  return async (state) => {
    if (state.window_n < firstWindow) {
      return { ok: false, reason: 'not_registered_yet', message: `registered while it was open; a window admits the registry of its opening, so this miner mines from window ${firstWindow}` };
    }
    const r = await fetchWindowBeacon(baseUrl).catch(() => null);
    if (r === null) return null;
    const body = r.body as { window_n?: unknown; detail?: unknown } | null;
    if (r.status === 404 && (body === null || body.detail === undefined)) {
      if (!unserved) log(`${name}: the validator serves no beacon proof (/node/beacon); window randomness taken on trust`);
      unserved = true;
      return { ok: true };
    }
    if (r.status !== 200 || body?.window_n !== state.window_n) return null;
    const c = verifyWindowBeacon(body, { window: state.window_n, randomness: state.randomness }, profile.drand,
      maxAgeSeconds === null ? undefined : { nowSeconds: now(), maxAgeSeconds });
    if (c.ok) log(`${name}: window ${state.window_n} beacon verified (${c.beacon} round ${c.round}, BLS)`);
    return c;
  };
}

/** Seconds without an answer from the validator after which the miner stops. */
const GONE_SECONDS = 15;

const fmtStats = (s: WindowStats): string =>
  `window ${s.window}: submitted ${s.submitted}, accepted ${s.accepted}${Object.keys(s.rejected).length ? `, rejected ${Object.entries(s.rejected).map(([k, n]) => `${k} ${n}`).join(', ')}` : ''}`;

/** Runs the miner; resolves to the exit code. */
export async function minerCommand(opts: MinerCommandOptions): Promise<number> {
  const err = (t: string): void => void process.stderr.write(`${t}\n`);
  const log = opts.quiet ? () => {} : err;
  let miner: MinerHost | null = null;
  const stop = new AbortController();
  const onSignal = (): void => {
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    if (!opts.validator) throw new ConfigError('missing --validator URL (the URL `reliquary validator` prints, e.g. http://127.0.0.1:8899)');
    const baseUrl = opts.validator.replace(/\/+$/, '');
    if (!/^https?:\/\/[^/]+/.test(baseUrl)) throw new ConfigError(`--validator ${JSON.stringify(opts.validator)} is not an http(s) URL`);
    const windows = intFlag(opts.windows, undefined, '--windows', 1, 1_000_000);
    const groups = intFlag(opts.groups, undefined, '--groups', 1, 1000);
    if (opts.beaconMaxAge !== undefined && opts.beaconMaxAge !== 'off' && !/^\d{1,5}$/.test(opts.beaconMaxAge)) {
      throw new ConfigError(`--beacon-max-age must be seconds (1 … 86400) or "off", got ${JSON.stringify(opts.beaconMaxAge)}`);
    }
    const maxAgeFlag = opts.beaconMaxAge === 'off' ? null : intFlag(opts.beaconMaxAge, undefined, '--beacon-max-age', 1, 86_400);
    const dataDir = resolve(process.cwd(), opts.data ?? './miner-data');
    await mkdir(dataDir, { recursive: true });
    const config = withEnvModules(opts.config ? await loadConfig(opts.config) : EMPTY_CONFIG, opts.env ?? []);
    const parts = await assembleMiner(config);
    const signer = signerFromSeed(await keySeed(join(dataDir, 'miner-hotkey.seed')));
    const coldkey = signerFromSeed(await keySeed(join(dataDir, 'miner-coldkey.seed')));
    const name = opts.name ?? `miner-${signer.ss58.slice(0, 6)}`;

    const info = await nodeInfo(baseUrl);
    if (info.profile_id !== parts.baseProfile.id) {
      throw new ConfigError(`the validator runs profile ${info.profile_id}, this miner ${parts.baseProfile.id}; set "profile" in the miner config`);
    }
    const diff = environmentSetDifference(info.environments, parts.environments.summary);
    if (diff) throw new ConfigError(`environment sets differ: ${diff}`);
    if (info.environments_digest !== parts.environments.digest) {
      throw new ConfigError(`environment sets differ: same names and settings, but other problems (digest ${parts.environments.digest.slice(0, 12)} here, ${info.environments_digest.slice(0, 12)} at the validator); use the validator's environment versions and options`);
    }
    const base = parts.environments.profile;
    const profile = info.collection_seconds === base.window.collectionSeconds && info.upload_grace_seconds === base.window.uploadGraceSeconds
      ? base : fastDevnetProfile(info.collection_seconds, info.upload_grace_seconds, base);
    const { uid, effectiveWindow } = await registerMiner(baseUrl, signer, coldkey.ss58, name);
    log(`${name} ${signer.ss58} registered as uid ${uid} at ${baseUrl} (validator ${info.hotkey})`);

    // The starting checkpoint is verified like any later one (the base checkpoint, n = 0, too).
    const fs = nodeCheckpointFs();
    const manifest = await httpClient({ baseUrl, profile }).checkpoint().catch(() => null);
    const c = await checkCheckpoint({ manifest, validatorHotkey: info.hotkey, expectedN: info.checkpoint.n, fs });
    if (!c.ok) throw new ConfigError(`the validator's checkpoint ${info.checkpoint.n} is refused (${c.reason}): ${c.message}`);

    miner = await startMiner({
      name, profile, envs: parts.environments.environments, baseUrl, validatorHotkey: info.hotkey, signer,
      selector: parts.selector, modelDir: c.dir, checkpointN: c.checkpointN, log,
      archives: fetchArchives(baseUrl, info.hotkey),
      // the validator's declared window may shorten the freshness bound, never lengthen it past this miner's profile
      checkWindow: beaconWindowCheck(baseUrl, profile, log, name, effectiveWindow,
        maxAgeFlag === null ? null : maxAgeFlag ?? Math.min(beaconMaxAgeSeconds(profile), beaconMaxAgeSeconds(base))),
      ...(groups !== undefined && { groupsPerWindow: groups }),
    });
    miner.start();
    let reported = 0;
    let answered = Date.now();
    let probed = 0;
    while (!stop.signal.aborted && (windows === undefined || miner.windows.length < windows)) {
      await new Promise((r) => setTimeout(r, 250));
      if (Date.now() - probed >= 2000) {
        // A validator that stopped (its last window done) ends the miner: it would wait for a window forever.
        probed = Date.now();
        if (await fetch(`${baseUrl}/node`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false)) answered = Date.now();
        else if (Date.now() - answered > GONE_SECONDS * 1000) {
          log(`${name}: the validator at ${baseUrl} has not answered for ${GONE_SECONDS} s: stopping after ${miner.windows.length} window(s)`);
          break;
        }
      }
      while (reported < miner.windows.length - 1) {
        const s = miner.miner.windowStats(miner.windows[reported++]!);
        if (s) log(`${name}: ${fmtStats(s)}`);
      }
    }
    // Let the last window's verdicts arrive (the validator seals after collection + grace).
    if (!stop.signal.aborted && windows !== undefined) await new Promise((r) => setTimeout(r, 1000));
    const m = miner;
    miner = null;
    await m.stop();
    const stats = m.stats();
    for (const s of stats.slice(reported)) log(`${name}: ${fmtStats(s)}`);
    if (opts.report) {
      const report = { name, hotkey: signer.ss58, validator: info.hotkey, selector: m.selector, windows: stats, reloads: m.reloads, refusals: m.refusals, refusedWindows: m.refusedWindows };
      await writeFile(opts.report, `${JSON.stringify(report, null, 2)}\n`);
    }
    return 0;
  } catch (e) {
    err(`reliquary miner: ${e instanceof Error ? e.message : String(e)}`);
    return e instanceof ConfigError ? 2 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (miner) await miner.stop().catch(() => {});
  }
}
