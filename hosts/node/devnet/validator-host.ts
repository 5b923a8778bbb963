/**
 * The devnet validator host: wiring only. It builds the validator node of core/validator (`startValidatorNode`:
 * recovery, window loop, seal, prove, train, publish, archive, weights) over Node I/O — the filesystem store, the
 * local beacon and chain, the wasm backend, the checkpoint files — and serves its `MarketValidator` with
 * `plugins/transport-http` on 127.0.0.1.
 *
 * Durable state under `dataDir`: `store/` (store-fs: archives, journal, progress records, the chain registry, the
 * validator and beacon seeds, the checkpoint manifest and index) and `checkpoints/ckpt-N/` (published HF checkpoints
 * + trainer state). The validator registers itself in the local chain (its hotkey under a persisted coldkey); its
 * uid is the burn uid of its weights.
 *
 * Held-out pass@1 (`evalHeldOut`): rollout 0 of `HELD_OUT_EVAL.problems` env-arith held-out problems spread over the
 * split (every level band), under a fixed forced-seed stream (`passAtOneOf` of core/training/loop.ts), on the
 * trainer's current weights; the devnet runs it before the first window and after the last.
 */
import { join, resolve } from 'node:path';
import type { ComputeBackend } from '../../../core/compute/backend.ts';
import type { MarketValidator } from '../../../core/market/validator-service.ts';
import type { Profile } from '../../../core/profile/index.ts';
import { signerFromSeed, type Signer } from '../../../core/protocol/sr25519.ts';
import { DEVNET_CHAR_TOKENIZER } from '../../../core/tokenizer/char.ts';
import type { Tokenizer } from '../../../core/tokenizer/types.ts';
import type { RevealParser } from '../../../core/protocol/reveal-body.ts';
import { spreadIndices, TRAIN_LOOP_DEFAULTS } from '../../../core/training/loop.ts';
import type { HeldOutEval, WindowReport } from '../../../core/validator/report.ts';
import { startValidatorNode } from '../../../core/validator/recovery.ts';
import type { CrashPoint, ValidatorEvent, ValidatorNode } from '../../../core/validator/validator-node.ts';
import { createNodeWasmBackend } from '../../../kernels/wasm/node.ts';
import { beaconLocal } from '../../../plugins/beacon-local/index.ts';
import { chainLocal, type LocalChain } from '../../../plugins/chain-local/index.ts';
import type { Beacon } from '../../../core/interfaces/beacon.ts';
import type { Environment } from '../../../core/interfaces/environment.ts';
import type { ObjectStore } from '../../../core/interfaces/store.ts';
import { environmentSet, type EnvironmentSet } from '../../../core/plugins/environment-set.ts';
import { collectionEnd } from '../../../core/market/window.ts';
import { storeFs } from '../../../plugins/store-fs/index.ts';
import type { Hono } from 'hono';
import { trafficCounter, type TrafficCounter } from '../nodes/traffic.ts';
import { httpServer } from '../../../plugins/transport-http/index.ts';
import { listen, type Listening } from '../../../plugins/transport-http/listen-node.ts';
import { nodeCheckpointFs } from '../fs-checkpoint.ts';
import { revealParserPool, type RevealParserPool } from '../reveal-parser-pool.ts';

export type { HeldOutEval, PublishedCheckpoint, TrainLine, WeightsLine, WindowReport } from '../../../core/validator/report.ts';

export interface ValidatorHostOptions {
  /** The base profile; the registered environments' own entries are merged into it (core/plugins/environment-set.ts). */
  readonly profile: Profile;
  /** The environments (at least one; `env` is the one-environment shorthand). */
  readonly envs?: readonly Environment[];
  readonly env?: Environment;
  /** Parts assembled from plugins (default: store-fs under `dataDir`, chain-local over it, beacon-local with a persisted seed). */
  readonly store?: ObjectStore;
  readonly chain?: LocalChain;
  readonly beacon?: Beacon;
  /** Extra routes on the HTTP app (e.g. the node routes of `reliquary validator`). */
  readonly routes?: (app: Hono<any>, host: () => ValidatorHost) => void;
  /** A live progress line every this many seconds while a window collects (0: none; default 0). */
  readonly progressEverySeconds?: number;
  /** Root of the durable state (store/ and checkpoints/). */
  readonly dataDir: string;
  /** The base checkpoint (the embedded model), announced until the first publish. */
  readonly modelDir: string;
  /** 0 = ephemeral. */
  readonly port?: number;
  readonly log?: (line: string) => void;
  /** When to call `chain.setWeights`: after every sealed window (default) or once per epoch id (core/validator/weights.ts). */
  readonly weightsEvery?: 'window' | 'epoch';
  /** `weightsEvery: 'epoch'`: submit when at most this many blocks remain in the epoch (default 10). */
  readonly weightsLeadBlocks?: number;
  /** Test hook: crash the node at a step boundary (`ValidatorNodeOptions.crashAt`). */
  readonly crashAt?: (point: CrashPoint, window: number) => boolean | Promise<boolean>;
  /** Every node event (proofs, window reports), besides the log lines. */
  readonly onEvent?: (e: ValidatorEvent) => void;
  /** The tokenizer of the model (default the devnet char tokenizer; the code devnet passes the Qwen3 one). */
  readonly tokenizer?: Tokenizer;
  /** Wraps the reveal parser (e.g. to count or time it); grading needs no wrapper (the admission awaits async graders). */
  readonly wrapParseReveal?: (parse: RevealParser) => RevealParser;
}

/** The fixed held-out eval: problems spread over env-arith's held-out split, rollout 0 under one forced-seed stream. */
export const HELD_OUT_EVAL = Object.freeze({ problems: 90, randomness: TRAIN_LOOP_DEFAULTS.evalRandomness });

export interface ValidatorHost {
  readonly url: string;
  readonly hotkey: string;
  readonly chain: LocalChain;
  readonly beacon: Beacon;
  readonly store: ObjectStore;
  /** The effective profile (the base one plus the environments' own entries). */
  readonly profile: Profile;
  /** The environment set derived from the registered environments (advertised with its digest). */
  readonly environments: EnvironmentSet;
  /** Submissions per window and hotkey, as served. */
  readonly traffic: TrafficCounter;
  readonly validator: MarketValidator;
  readonly node: ValidatorNode;
  /** The checkpoint miners must start from (the last published one, else the embedded model). */
  readonly startCheckpoint: { readonly dir: string; readonly checkpointN: number };
  /** Tombstones written at startup for activated windows whose journal was unreadable. */
  readonly recoveredTombstones: readonly number[];
  /** The window resumed from its journal at startup (its next `runWindow` seals it), and how many groups came back. */
  readonly resumed: { readonly window: number; readonly groups: number } | null;
  /** The validator's uid in the local chain: the burn uid of its weights. */
  readonly uid: number;
  runWindow(): Promise<WindowReport>;
  /** Held-out pass@1 of the trainer's current weights (see `HELD_OUT_EVAL`); run between windows. */
  evalHeldOut(): Promise<HeldOutEval>;
  /** Stops listening and frees the model; a window still collecting is abandoned (as a killed process would). */
  close(): Promise<void>;
}

const MANIFEST_KEY = 'devnet/checkpoint.json';
const RUN_ID = 'devnet';
const sleep = (s: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, s * 1000)));
const wall = (): number => Date.now() / 1000;

/** A seed persisted in the store (created on first use): the validator key and the beacon key survive restarts. */
export async function persistedSeed(store: ObjectStore, key: string, bytes: number): Promise<Uint8Array> {
  const have = await store.get(key);
  if (have && have.length === bytes) return have;
  const seed = crypto.getRandomValues(new Uint8Array(bytes));
  await store.put(key, seed);
  return seed;
}

/** Starts the validator: the node recovers its state and loads the model; its service listens on loopback. */
export async function startValidator(o: ValidatorHostOptions): Promise<ValidatorHost> {
  const log = o.log ?? (() => {});
  const envList = o.envs ?? (o.env ? [o.env] : []);
  const tokenizer = o.tokenizer ?? DEVNET_CHAR_TOKENIZER;
  const envSet = environmentSet(o.profile, envList, { tokenizer });
  const p = envSet.profile;
  const dataDir = resolve(o.dataDir);
  const store = o.store ?? storeFs({ dir: join(dataDir, 'store'), fsync: false });
  const chain = o.chain ?? chainLocal({ store });
  const beacon = o.beacon ?? beaconLocal({ secretSeed: await persistedSeed(store, 'devnet/beacon-seed.bin', 48) });
  const heldOutEnv = envList.find((e) => e.heldOut !== undefined);
  const signer: Signer = signerFromSeed(await persistedSeed(store, 'devnet/validator-seed.bin', 32));
  const coldkey: Signer = signerFromSeed(await persistedSeed(store, 'devnet/validator-coldkey-seed.bin', 32));
  const uid = await chain.register(signer.ss58, coldkey.ss58); // idempotent: same uid on every restart
  const be: ComputeBackend = await createNodeWasmBackend();
  // Reveal bodies are parsed in worker threads, off the event loop (a hostile body costs a worker, not the node).
  const pool: RevealParserPool = revealParserPool({ profile: p });
  let node: ValidatorNode;
  try {
    node = await startValidatorNode({
      profile: p, store, chain, beacon, backend: be, signer, uid, envs: Object.fromEntries(envList.map((e) => [e.name, e])), tokenizer, clock: wall, sleep,
      market: { parseReveal: o.wrapParseReveal ? o.wrapParseReveal(pool.parse) : pool.parse },
      checkpoints: { fs: nodeCheckpointFs(), baseDir: resolve(o.modelDir), dirOf: (n) => join(dataDir, 'checkpoints', `ckpt-${n}`) },
      ...(heldOutEnv?.heldOut && {
        heldOut: { env: heldOutEnv.heldOut, indices: spreadIndices(heldOutEnv.heldOut.size, HELD_OUT_EVAL.problems), randomness: HELD_OUT_EVAL.randomness, maxNewTokens: p.environments[heldOutEnv.name]!.maxNewTokens },
      }),
      onEvent: (e) => {
        if (e.kind === 'log') log(e.line);
        o.onEvent?.(e);
      },
    }, {
      runId: RUN_ID, weightsEvery: o.weightsEvery ?? 'window', weightsLeadBlocks: o.weightsLeadBlocks ?? 10,
      checkpointKeys: { manifest: MANIFEST_KEY, index: 'devnet/checkpoints/' }, legacyActivatedPrefix: 'devnet/activated/', crashAt: o.crashAt,
    });
  } catch (e) {
    be.destroy();
    await pool.close();
    throw e;
  }
  const v = node.validator;
  const traffic = trafficCounter(v);
  const app = httpServer(traffic.service, { profile: p, clock: wall, onError: (e, route) => log(`validator: ${route} fault: ${e instanceof Error ? e.message : String(e)}`) });
  let self!: ValidatorHost;
  o.routes?.(app, () => self);
  const server: Listening = await listen(app, { port: o.port ?? 0, hostname: '127.0.0.1' });
  const rec = node.recovery;
  log(`validator ${signer.ss58} listening on ${server.url} (window ${v.window.windowN} ${rec.resumed ? 'resumes' : 'next'}, checkpoint ${node.checkpoint.checkpointN}` +
    `${rec.unfinished.length ? `; finishing sealed window(s) ${rec.unfinished.map((u) => `${u.window} after ${u.stage}`).join(', ')}` : ''})`);

  let closed = false;
  /** The live collection line every `progressEverySeconds` while the window is open. */
  const runWindow = async (): Promise<WindowReport> => {
    const every = o.progressEverySeconds ?? 0;
    const timer = every > 0 ? setInterval(() => {
      const s = v.window;
      if (s.phase !== 'open') return;
      void traffic.poll().then(() => log(traffic.progressLine(s.windowN, collectionEnd(s, p.window) - wall())), () => {});
    }, every * 1000) : null;
    try {
      const r = await node.runWindow();
      await traffic.poll().catch(() => {});
      return r;
    } finally {
      if (timer) clearInterval(timer);
    }
  };
  self = {
    url: server.url,
    hotkey: signer.ss58,
    chain,
    beacon,
    store,
    profile: p,
    environments: envSet,
    traffic,
    validator: v,
    node,
    startCheckpoint: { dir: node.checkpoint.dir, checkpointN: node.checkpoint.checkpointN },
    recoveredTombstones: rec.tombstones,
    resumed: rec.resumed,
    uid,
    runWindow,
    evalHeldOut: () => node.evalHeldOut(),
    async close() {
      if (closed) return;
      closed = true;
      await server.close();
      node.close();
      be.destroy();
      await pool.close();
    },
  };
  return self;
}
