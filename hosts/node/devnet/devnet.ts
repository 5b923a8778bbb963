/**
 * `runDevnet`: the local devnet in one process (tests; `reliquary devnet` runs the same market as separate processes,
 * processes.ts). A validator (validator-host.ts) on 127.0.0.1 and N miners
 * (miner-host.ts), each with its own sr25519 hotkey registered in the local chain under a coldkey (the last two
 * miners share one operator when N ≥ 3, so the one-claim-per-(operator, prompt) rule is exercised), all on the
 * embedded tiny model and the wasm backend, for W windows; then the report (report.ts).
 *
 * Selectors: with N ≥ 2 the first miner runs `selector-frontier`, the others `selector-uniform`.
 *
 * Held-out pass@1 is measured on the validator's model before the first window (before the miners start, so the eval
 * does not compete with them for the CPU) and after the last (after they stop). On a rerun that resumes `dataDir`,
 * "before" is the resumed checkpoint. The chain weights of the report are the last `setWeights` record of the local
 * chain (the validator sets them after each sealed window, validator-host.ts).
 *
 * @example
 *   const report = await runDevnet({ windows: 3, miners: 3, dataDir: './data', modelDir: 'models/tiny-arith' });
 *   process.stdout.write(formatReport(report));
 */
import { rm } from 'node:fs/promises';
import { DEVNET, type Profile } from '../../../core/profile/index.ts';
import { verifyArchive, type WindowArchive } from '../../../core/market/archive.ts';
import { signerFromSeed } from '../../../core/protocol/sr25519.ts';
import { envArith } from '../../../plugins/env-arith/index.ts';
import { startMiner, type MinerHost, type SelectorKind } from './miner-host.ts';
import { buildReport, chainWeightsOf, type ChainWeights, type DevnetReport } from './report.ts';
import { startValidator, type HeldOutEval, type ValidatorHost, type WindowReport } from './validator-host.ts';
import { dashboardFeed } from '../../../core/validator/dashboard.ts';
import { browserRoutes } from '../../browser/serve.ts';
import { newestArchiveKeys, nodeRoutes } from '../nodes/node-routes.ts';

export interface DevnetOptions {
  readonly windows: number;
  readonly miners: number;
  readonly dataDir: string;
  readonly modelDir: string;
  /** Start from an empty data directory (default: resume what is there). */
  readonly fresh?: boolean;
  /** Default DEVNET. */
  readonly profile?: Profile;
  readonly port?: number;
  /** Groups per miner per window (default: the hotkey quota). */
  readonly groupsPerWindow?: number;
  /** Progress lines (stderr in the CLI). */
  readonly log?: (line: string) => void;
  /** A live line every this many seconds while a window collects (submissions, accepted/rejected, seconds left; 0: none). */
  readonly progressEverySeconds?: number;
  /** Called after each window (live progress). */
  readonly onWindow?: (w: WindowReport) => void;
  /** Called after each held-out eval (live progress). */
  readonly onEval?: (when: 'before' | 'after', e: HeldOutEval) => void;
}

/** The devnet profile with shorter clocks (tests): collection and upload grace in seconds. */
export function fastDevnetProfile(collectionSeconds: number, uploadGraceSeconds = 3, base: Profile = DEVNET): Profile {
  return { ...base, window: { ...base.window, collectionSeconds, uploadGraceSeconds } };
}

/** Deterministic per-run miner keys are not needed: fresh keys each run, registered in the local chain. */
function randomSigner() {
  return signerFromSeed(crypto.getRandomValues(new Uint8Array(32)));
}

/**
 * The validator's public archives as a miner reads them (the signed `window-N.json` objects of its store, each
 * verified against the validator hotkey; the newest `keep`, oldest first): the selector's `feed.archives`.
 */
function archiveFeed(validator: ValidatorHost, keep = 8): () => Promise<readonly WindowArchive[]> {
  const cache = new Map<string, WindowArchive>();
  return async () => {
    const out: WindowArchive[] = [];
    for (const { key } of await newestArchiveKeys(validator.store, validator.hotkey, keep)) {
      let a = cache.get(key);
      if (a === undefined) {
        const bytes = await validator.store.get(key);
        if (!bytes) continue;
        const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes));
        if (!verifyArchive(parsed, validator.hotkey).ok) continue;
        cache.set(key, (a = parsed as WindowArchive));
      }
      out.push(a);
    }
    return out;
  };
}

export async function runDevnet(o: DevnetOptions): Promise<DevnetReport> {
  const profile = o.profile ?? DEVNET;
  const log = o.log ?? (() => {});
  if (o.fresh) await rm(o.dataDir, { recursive: true, force: true });
  const env = envArith();
  const started = Date.now();
  const feed = dashboardFeed();
  const validator: ValidatorHost = await startValidator({
    profile, env, dataDir: o.dataDir, modelDir: o.modelDir, port: o.port ?? 0, log, progressEverySeconds: o.progressEverySeconds ?? 0,
    onEvent: (e) => feed.observe(e),
    routes: (app, getHost) => {
      nodeRoutes(app, getHost);
      browserRoutes({ feed, host: getHost, env: env.name })(app); // the live dashboard at /, a browser miner at /miner
    },
  });
  log(`devnet: dashboard ${validator.url}/  ·  browser miner ${validator.url}/miner`);
  const miners: MinerHost[] = [];
  const windows: WindowReport[] = [];
  let before!: HeldOutEval;
  let after!: HeldOutEval;
  let chainWeights: ChainWeights | null = null;
  let minersStopped = false;
  const stopMiners = async (): Promise<void> => {
    if (minersStopped) return;
    minersStopped = true;
    await Promise.all(miners.map((m) => m.stop()));
  };
  try {
    log(`validator: held-out pass@1 (before) …`);
    before = await validator.evalHeldOut();
    o.onEval?.('before', before);
    const archives = archiveFeed(validator);
    const coldkeys = Array.from({ length: o.miners }, () => randomSigner());
    for (let i = 0; i < o.miners; i++) {
      const signer = randomSigner();
      const operator = o.miners >= 3 && i === o.miners - 1 ? coldkeys[i - 1]! : coldkeys[i]!;
      await validator.chain.register(signer.ss58, operator.ss58);
      const selector: SelectorKind = o.miners >= 2 && i === 0 ? 'frontier' : 'uniform';
      miners.push(await startMiner({
        name: `miner-${i + 1}`, profile: validator.profile, env, baseUrl: validator.url, validatorHotkey: validator.hotkey, signer, selector,
        modelDir: validator.startCheckpoint.dir, checkpointN: validator.startCheckpoint.checkpointN, archives,
        ...(o.groupsPerWindow !== undefined && { groupsPerWindow: o.groupsPerWindow }), log,
      }));
      log(`miner-${i + 1} ${signer.ss58} (operator ${operator.ss58.slice(0, 8)}…, selector ${selector})`);
    }
    for (const m of miners) m.start();
    for (let w = 0; w < o.windows; w++) {
      const r = await validator.runWindow();
      windows.push(r);
      o.onWindow?.(r);
    }
    await stopMiners();
    log(`validator: held-out pass@1 (after) …`);
    after = await validator.evalHeldOut();
    o.onEval?.('after', after);
    chainWeights = await chainWeightsOf(validator, windows);
  } finally {
    await stopMiners();
    await validator.close();
  }
  return buildReport({
    profile,
    validator: validator.hotkey,
    recoveredTombstones: validator.recoveredTombstones,
    windows,
    miners: miners.map((m) => ({ name: m.name, hotkey: m.hotkey, selector: m.selector, stats: m.stats(), reloads: m.reloads })),
    heldOut: { before, after },
    chainWeights,
    seconds: (Date.now() - started) / 1000,
  });
}
