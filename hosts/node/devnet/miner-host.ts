/**
 * The devnet miner host: one `createMiner` (core/miner, spec/market.md §10) with its own sr25519 signer, its own wasm
 * backend and model, its own HTTP client to the validator on loopback, and a selector plugin (uniform or frontier).
 * It mines every window it sees until stopped; on a `checkpoint` event it reloads the published weights from the
 * manifest's `repo_id` (a local checkpoint directory on the devnet) before generating anything else.
 */
import type { ComputeBackend } from '../../../core/compute/backend.ts';
import type { Selector } from '../../../core/interfaces/selector.ts';
import { isTransportError } from '../../../core/interfaces/transport.ts';
import { loadModel } from '../../../core/model/load.ts';
import { disposeQwen3Weights } from '../../../core/model/weights.ts';
import { createMiner, MinerStopError, modelGenerator, type Miner, type MinerDeps, type WindowStats } from '../../../core/miner/index.ts';
import type { Profile } from '../../../core/profile/index.ts';
import type { Signer } from '../../../core/protocol/sr25519.ts';
import { DEVNET_CHAR_TOKENIZER } from '../../../core/tokenizer/char.ts';
import type { Tokenizer } from '../../../core/tokenizer/types.ts';
import { createNodeWasmBackend } from '../../../kernels/wasm/node.ts';
import type { WindowArchive } from '../../../core/market/archive.ts';
import type { Environment, Problem } from '../../../core/interfaces/environment.ts';
import { checkCheckpoint } from '../../../core/miner/checkpoint-check.ts';
import { selectorFrontier } from '../../../plugins/selector-frontier/index.ts';
import { selectorUniform } from '../../../plugins/selector-uniform/index.ts';
import { httpClient } from '../../../plugins/transport-http/index.ts';
import { nodeCheckpointFs } from '../fs-checkpoint.ts';

export type SelectorKind = 'uniform' | 'frontier';

export interface MinerHostOptions {
  readonly name: string;
  /** The effective profile (the validator's: base profile plus the environments' own entries). */
  readonly profile: Profile;
  /** The environments this miner generates for (`env`: the one-environment shorthand). */
  readonly envs?: readonly Environment[];
  readonly env?: Environment;
  readonly baseUrl: string;
  /**
   * The validator's registered hotkey: a published checkpoint is loaded only when its manifest is signed by it and
   * the downloaded weights hash to its revision (core/miner/checkpoint-check.ts); otherwise the old one is kept.
   * Absent (in-process tests only): the revision is still checked, the signature is not.
   */
  readonly validatorHotkey?: string;
  readonly signer: Signer;
  readonly selector: SelectorKind;
  /** Checkpoint to start from and its `checkpoint_n`. */
  readonly modelDir: string;
  readonly checkpointN: number;
  /** Groups per window (default: the hotkey quota). */
  readonly groupsPerWindow?: number;
  readonly seed?: string;
  /** The public window archives, fed to the selector before each pick (`MinerDeps.archives`). */
  readonly archives?: () => Promise<readonly WindowArchive[]>;
  readonly log?: (line: string) => void;
  /** The tokenizer of the model (default the devnet char tokenizer; the code devnet passes the Qwen3 one). */
  readonly tokenizer?: Tokenizer;
  /** Checks each window's randomness before mining it (`MinerDeps.checkWindow`: the beacon round's BLS signature). */
  readonly checkWindow?: MinerDeps['checkWindow'];
}

export interface MinerHost {
  readonly name: string;
  readonly hotkey: string;
  readonly selector: SelectorKind;
  readonly miner: Miner;
  /** Windows this miner mined. */
  readonly windows: readonly number[];
  /** Checkpoints it reloaded. */
  readonly reloads: readonly number[];
  /** Checkpoints it refused (bad signature, revision mismatch, …), with why. */
  readonly refusals: readonly { readonly checkpointN: number; readonly reason: string; readonly message: string }[];
  /** Windows it refused to mine (`checkWindow`: a beacon that does not verify, …), with why. */
  readonly refusedWindows: readonly { readonly window: number; readonly reason: string; readonly message: string }[];
  /** Stats of every mined window (verdicts keep arriving until `stop`). */
  stats(): WindowStats[];
  /** Starts the loop (returns at once). */
  start(): void;
  /** Polls verdicts a last time, stops the loop and frees the backend. */
  stop(): Promise<void>;
}

const sleep = (s: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, s * 1000)));

/** Seconds during which the same error line is said once (a validator that went away fails every poll). */
const REPEAT_QUIET_SECONDS = 10;

export async function startMiner(o: MinerHostOptions): Promise<MinerHost> {
  const log = o.log ?? (() => {});
  let lastError = { line: '', at: 0 };
  const logError = (e: unknown): void => {
    const line = `${o.name}: ${e instanceof Error ? e.message : String(e)}`;
    const now = Date.now();
    if (line === lastError.line && now - lastError.at < REPEAT_QUIET_SECONDS * 1000) return;
    lastError = { line, at: now };
    log(line);
  };
  const fs = nodeCheckpointFs();
  const be: ComputeBackend = await createNodeWasmBackend();
  let model = await loadModel(be, { fs, dir: o.modelDir });
  const windows: number[] = [];
  const reloads: number[] = [];
  const refusals: { checkpointN: number; reason: string; message: string }[] = [];
  const refusedWindows: { window: number; reason: string; message: string }[] = [];
  const envs = o.envs ?? (o.env ? [o.env] : []);
  const envByName = new Map(envs.map((e) => [e.name, e]));
  const transport = httpClient({ baseUrl: o.baseUrl, profile: o.profile });
  // The frontier selector learns a prior per prompt-feature bucket (operator and operand digit counts, parsed from
  // the prompt text), so one group informs its whole bucket; the devnet publishes a checkpoint every window (one
  // small step), so most of each prompt's evidence (own groups, archives) is kept across it. Window 0 is informed by
  // prompt shape alone: a generic digit-work difficulty guess (`arithDifficultyPrior`) is the bucket prior until groups
  // outweigh it. It ranks by P(in zone): in the devnet's small pool nearly every in-zone group wins.
  const selector: Selector = o.selector === 'frontier'
    ? selectorFrontier({
      seed: o.seed ?? o.name, hotkey: o.signer.ss58, sigmaFloor: o.profile.zone.sigmaMin, groupSize: o.profile.sampling.rollouts,
      bucket: (problem: Problem, env: string) => envByName.get(env)?.promptBucket?.(problem) ?? `${env}|len${Math.floor(2 * Math.log2(problem.prompt.length + 1))}`,
      evidenceCarry: 0.8, objective: 'zone',
      bucketHint: (problem: Problem, env: string) => envByName.get(env)?.difficultyHint?.(problem) ?? null,
    })
    : selectorUniform({ seed: o.seed ?? o.name });
  const miner = createMiner({
    profile: o.profile,
    transport,
    signer: o.signer,
    selector,
    environments: envs,
    ...(o.archives && { archives: o.archives }),
    ...(o.checkWindow && { checkWindow: o.checkWindow }),
    tokenizer: o.tokenizer ?? DEVNET_CHAR_TOKENIZER,
    generate: modelGenerator(() => model, o.profile),
    clock: () => Date.now() / 1000,
    sleep,
    random: (n) => crypto.getRandomValues(new Uint8Array(n)),
    onEvent: async (e) => {
      if (e.kind === 'checkpoint' && e.repoId) {
        // Verify before switching: the manifest's signature by the validator's hotkey, then the weights' revision.
        const c = await checkCheckpoint({ manifest: await transport.checkpoint().catch(() => null), validatorHotkey: o.validatorHotkey ?? null, expectedN: e.checkpointN, fs });
        if (!c.ok) {
          refusals.push({ checkpointN: e.checkpointN, reason: c.reason, message: c.message });
          log(`${o.name}: checkpoint ${e.checkpointN} refused (${c.reason}): ${c.message}; keeping checkpoint ${e.previous}`);
          return;
        }
        const next = await loadModel(be, { fs, dir: c.dir });
        disposeQwen3Weights(be, model.weights);
        model = next;
        reloads.push(e.checkpointN);
        log(`${o.name}: reloaded checkpoint ${e.checkpointN} (${e.revision?.slice(0, 12)})`);
      } else if (e.kind === 'window_refused') {
        refusedWindows.push({ window: e.window, reason: e.reason, message: e.message });
        log(`${o.name}: window ${e.window} skipped (${e.reason}): ${e.message}`);
      } else if (e.kind === 'error') {
        logError(e.error);
      }
    },
  }, { checkpointN: o.checkpointN, pollSeconds: 0.25, ...(o.groupsPerWindow !== undefined && { groupsPerWindow: o.groupsPerWindow }) });

  const ctl = new AbortController();
  let loop: Promise<void> | null = null;

  async function run(): Promise<void> {
    while (!ctl.signal.aborted) {
      try {
        const s = await miner.runWindow(ctl.signal);
        windows.push(s.window);
      } catch (e) {
        if (ctl.signal.aborted) return;
        if (e instanceof MinerStopError) {
          log(`${o.name}: stopped: ${e.message}`);
          return;
        }
        logError(e);
        await sleep(0.5);
      }
    }
  }

  return {
    name: o.name,
    hotkey: o.signer.ss58,
    selector: o.selector,
    miner,
    windows,
    reloads,
    refusals,
    refusedWindows,
    stats: () => windows.map((w) => miner.windowStats(w)).filter((s): s is WindowStats => s !== undefined),
    start() {
      loop ??= run();
    },
    async stop() {
      ctl.abort();
      await loop?.catch(() => {});
      try {
        await miner.tick(); // a last verdict poll: the seal records of the final window
      } catch (e) {
        if (!isTransportError(e) && !(e instanceof MinerStopError)) log(`${o.name}: ${e instanceof Error ? e.message : String(e)}`);
      }
      disposeQwen3Weights(be, model.weights);
      be.destroy();
    },
  };
}
