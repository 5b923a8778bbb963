/**
 * `chainSubtensor(options)`: a `Chain` (core/interfaces/chain.ts) against a subtensor node (Bittensor), through
 * `@polkadot/api`. Reads go to pallet_subtensor's storage (`SubtensorModule`):
 *
 *   metagraph   `Keys(netuid, uid) → hotkey`, `Owner(hotkey) → coldkey`, `ValidatorPermit(netuid)`
 *   registered  `Uids(netuid, hotkey)`;  subnet exists: `NetworksAdded(netuid)`
 *   clock       the best header's number; `Tempo(netuid)`, and subtensor's epoch rule
 *               `blocksUntilNextEpoch = tempo − (block + netuid + 1) mod (tempo + 1)`
 *   weights     `WeightsVersionKey(netuid)`, `CommitRevealWeightsEnabled(netuid)`, `CommitRevealWeightsVersion`,
 *               `WeightsSetRateLimit(netuid)`, `LastUpdate(netuid)`
 *
 * `setWeights` converts the floats to u16 (`normalizeWeightsU16`), checks before sending that the subnet exists,
 * that the hotkey is registered and that `WeightsSetRateLimit` allows it, then takes one of two paths, chosen from
 * the runtime's storage and reported in the receipt: `set_weights(netuid, dests, weights, version_key)` when
 * commit-reveal is off, or commit-reveal v2 (`commit_weights(netuid, hash)` now, `reveal_weights(…)` on a later call
 * once the reveal epoch comes: `revealDue()`, which `setWeights` runs first). A subnet on drand-timelocked commits
 * (CommitRevealWeightsVersion ≥ 3, where plain `commit_weights` is refused) fails with `commit_reveal_unsupported`.
 * Chain refusals are `SubtensorError`s with a reason (`unregistered`, `rate_limited`, `no_permit`, …).
 *
 * Reconnection: the provider reconnects by itself after a drop; a call made while the node is away waits up to
 * `connectTimeoutMs`, and a failed first connection is retried from scratch on the next call.
 *
 * @example
 *   const chain = chainSubtensor({ endpoint: 'wss://entrypoint-finney.opentensor.ai:443', netuid: 81, hotkey: process.env.HOTKEY_URI });
 *   const snap = await chain.registry();                 // { takenAt, neurons: [{ uid, hotkey, coldkey, validatorPermit }] }
 *   const r = await chain.submitWeights([0, 5], [0.2, 0.8]); // r.path: 'set_weights' | 'commit_reveal_v2'
 */
import { Keyring, type ApiPromise } from '@polkadot/api';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import type { Chain, RegistrySnapshot } from '../../core/interfaces/chain.ts';
import { hex as toHex } from '../../core/protocol/codec.ts';
import { connectSubtensor } from './connection.ts';
import { SUBTENSOR_ERROR_REASONS, SubtensorError } from './errors.ts';
import { decodeMetagraph, type SubtensorNeuron } from './metagraph.ts';
import { sendAndWatch } from './submit.ts';
import { commitHash, normalizeWeightsU16, type U16Weights } from './weights.ts';

export interface ChainSubtensorOptions {
  /** Node RPC, `ws://` or `wss://`. */
  endpoint: string;
  netuid: number;
  /** The validator hotkey as a secret URI (`//Alice`) or mnemonic; null: read-only (setWeights refuses). */
  hotkey: string | null;
  /** The `version_key` sent with weights; null: the subnet's current `WeightsVersionKey`. */
  versionKey: number | null;
  connectTimeoutMs: number;
  reconnectMs: number;
  requestTimeoutMs: number;
  /** How long to wait for a weights transaction to be included in a block. */
  txTimeoutMs: number;
  /** SS58 prefix of addresses returned (42 on Bittensor). */
  ss58Format: number;
  /** Clock, unix seconds (stamps registry snapshots). */
  now: () => number;
  /** Uniform [0, 1) for commit-reveal salts. */
  random: () => number;
}

/** Documented defaults: Bittensor's finney entrypoint, netuid 81 (Reliquary), read-only, the chain's version key. */
export const CHAIN_SUBTENSOR_DEFAULTS: Readonly<ChainSubtensorOptions> = Object.freeze({
  endpoint: 'wss://entrypoint-finney.opentensor.ai:443',
  netuid: 81,
  hotkey: null,
  versionKey: null,
  connectTimeoutMs: 15_000,
  reconnectMs: 2_500,
  requestTimeoutMs: 30_000,
  txTimeoutMs: 60_000,
  ss58Format: 42,
  now: function wallClock() {
    return Date.now() / 1000;
  },
  random: Math.random,
});

/** Which weights path the subnet takes now. */
export interface WeightsMode {
  readonly path: 'set_weights' | 'commit_reveal_v2' | 'timelocked';
  readonly commitRevealEnabled: boolean;
  /** `CommitRevealWeightsVersion`, when the runtime has it. */
  readonly commitRevealVersion: number | null;
  readonly versionKey: bigint;
}

/** What one `submitWeights` did. */
export interface WeightsReceipt {
  readonly path: 'set_weights' | 'commit_reveal_v2';
  readonly uid: number;
  readonly weights: U16Weights;
  readonly versionKey: bigint;
  readonly blockHash: string;
  /** Commit-reveal v2: the commit's hash (hex), revealed by a later `revealDue()`. */
  readonly commitHash?: string;
  /** Earlier commits revealed by this call. */
  readonly revealed: number;
}

/** The subtensor chain: the `Chain` interface plus the richer calls a validator or an operator needs. */
export interface SubtensorChain extends Chain {
  registry(): Promise<RegistrySnapshot & { readonly neurons: readonly SubtensorNeuron[] }>;
  /** `setWeights` with its receipt. */
  submitWeights(uids: readonly number[], weights: readonly number[]): Promise<WeightsReceipt>;
  /** Reveals the pending commit-reveal v2 commits whose reveal epoch has come; returns how many. */
  revealDue(): Promise<number>;
  /** Commits waiting for their reveal epoch (in memory: a restart forgets them). */
  pendingReveals(): number;
  weightsMode(): Promise<WeightsMode>;
  /** The uid of `hotkey` on this subnet, or null. */
  uidOf(hotkey: string): Promise<number | null>;
  tempo(): Promise<number>;
  /** `{ specName, specVersion }` of the node's runtime. */
  runtime(): Promise<{ specName: string; specVersion: number }>;
  /** The validator hotkey's SS58 address (null when read-only). */
  readonly hotkeyAddress: Promise<string | null>;
  close(): Promise<void>;
}

type KeyringPair = ReturnType<Keyring['addFromUri']>;

interface PendingReveal {
  readonly weights: U16Weights;
  readonly salt: readonly number[];
  readonly versionKey: bigint;
}

/** A `Chain` on the subtensor node at `options.endpoint`. */
export function chainSubtensor(options: Partial<ChainSubtensorOptions> = {}): SubtensorChain {
  const o: ChainSubtensorOptions = { ...CHAIN_SUBTENSOR_DEFAULTS, ...options };
  checkOptions(o);
  let apiPromise: Promise<ApiPromise> | null = null;
  const pending: PendingReveal[] = [];
  const pairPromise: Promise<KeyringPair | null> = o.hotkey === null
    ? Promise.resolve(null)
    : cryptoWaitReady().then(() => {
      try {
        return new Keyring({ type: 'sr25519', ss58Format: o.ss58Format }).addFromUri(o.hotkey!);
      } catch (e) {
        throw new SubtensorError('no_hotkey', `chain-subtensor: the \`hotkey\` option is not a valid secret URI or mnemonic (${e instanceof Error ? e.message : String(e)})`);
      }
    });
  pairPromise.catch(() => {}); // surfaced on use

  /** The API, connecting (again) when there is none or the last attempt failed; waits out a reconnect. */
  async function api(): Promise<ApiPromise> {
    apiPromise ??= connectSubtensor(o);
    let a: ApiPromise;
    try {
      a = await apiPromise;
    } catch (e) {
      apiPromise = null; // the next call tries again
      throw e;
    }
    if (!a.isConnected) {
      const ready = new Promise<void>((resolve) => a.once('connected', () => resolve()));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new SubtensorError('unreachable', `chain-subtensor: ${o.endpoint}: lost the connection and could not reconnect within ${o.connectTimeoutMs} ms; ${SUBTENSOR_ERROR_REASONS.unreachable}`)), o.connectTimeoutMs);
      });
      try {
        await Promise.race([ready, timeout]);
      } finally {
        clearTimeout(timer);
      }
    }
    return a;
  }

  /** A SubtensorModule storage item, or a clear error when the runtime lacks it. */
  function storage(a: ApiPromise, name: string, optional = false): any {
    const item = (a.query['subtensorModule'] as Record<string, unknown> | undefined)?.[name];
    if (item === undefined && !optional) throw new SubtensorError('not_subtensor', `chain-subtensor: the runtime has no SubtensorModule.${name} storage; ${SUBTENSOR_ERROR_REASONS.not_subtensor}`);
    return item;
  }

  async function currentBlock(): Promise<number> {
    const a = await api();
    return (await a.rpc.chain.getHeader()).number.toNumber();
  }

  async function tempo(): Promise<number> {
    const a = await api();
    return Number((await storage(a, 'tempo')(o.netuid)).toString());
  }

  async function ensureSubnet(a: ApiPromise): Promise<void> {
    const added = storage(a, 'networksAdded', true);
    if (added !== undefined && !(await added(o.netuid)).isTrue) {
      throw new SubtensorError('no_subnet', `chain-subtensor: netuid ${o.netuid} at ${o.endpoint}: ${SUBTENSOR_ERROR_REASONS.no_subnet}`);
    }
  }

  async function uidOf(hotkey: string): Promise<number | null> {
    const a = await api();
    const v = await storage(a, 'uids')(o.netuid, hotkey);
    return v.isSome ? Number(v.unwrap().toString()) : null;
  }

  async function weightsMode(): Promise<WeightsMode> {
    const a = await api();
    const enabledItem = storage(a, 'commitRevealWeightsEnabled', true);
    const versionItem = storage(a, 'commitRevealWeightsVersion', true);
    const commitRevealEnabled = enabledItem !== undefined && (await enabledItem(o.netuid)).isTrue === true;
    const commitRevealVersion = versionItem !== undefined ? Number((await versionItem()).toString()) : null;
    const versionKey = o.versionKey !== null ? BigInt(o.versionKey) : BigInt((await storage(a, 'weightsVersionKey')(o.netuid)).toString());
    const path = !commitRevealEnabled ? 'set_weights' : commitRevealVersion !== null && commitRevealVersion >= 3 ? 'timelocked' : 'commit_reveal_v2';
    return { path, commitRevealEnabled, commitRevealVersion, versionKey };
  }

  async function signer(): Promise<KeyringPair> {
    const pair = await pairPromise;
    if (pair === null) throw new SubtensorError('no_hotkey', `chain-subtensor: ${SUBTENSOR_ERROR_REASONS.no_hotkey}`);
    return pair;
  }

  async function revealDue(): Promise<number> {
    if (pending.length === 0) return 0;
    const a = await api();
    const pair = await signer();
    let revealed = 0;
    for (const p of [...pending]) {
      const tx = a.tx['subtensorModule']!['revealWeights']!(o.netuid, p.weights.uids, p.weights.values, p.salt, p.versionKey);
      try {
        await sendAndWatch(a, tx, pair, `chain-subtensor reveal_weights on netuid ${o.netuid}`, o.txTimeoutMs);
        revealed++;
        pending.splice(pending.indexOf(p), 1);
      } catch (e) {
        if (e instanceof SubtensorError && /RevealTooEarly/.test(e.message)) break; // later commits are later still
        if (e instanceof SubtensorError && /ExpiredWeightCommit|NoWeightsCommitFound|InvalidRevealCommitHashNotMatch/.test(e.message)) {
          pending.splice(pending.indexOf(p), 1);
          continue;
        }
        throw e;
      }
    }
    return revealed;
  }

  async function submitWeights(uids: readonly number[], weights: readonly number[]): Promise<WeightsReceipt> {
    const w = normalizeWeightsU16(uids, weights);
    const pair = await signer();
    const a = await api();
    const context = `chain-subtensor set weights as ${pair.address} on netuid ${o.netuid}`;
    await ensureSubnet(a);
    const uid = await uidOf(pair.address);
    if (uid === null) throw new SubtensorError('unregistered', `${context}: ${SUBTENSOR_ERROR_REASONS.unregistered}`);
    const mode = await weightsMode();
    if (mode.path === 'timelocked') {
      throw new SubtensorError('commit_reveal_unsupported', `${context}: ${SUBTENSOR_ERROR_REASONS.commit_reveal_unsupported} (CommitRevealWeightsVersion ${mode.commitRevealVersion}); ask the subnet owner to disable commit-reveal, or submit through a client with drand timelock encryption`);
    }
    const revealed = mode.path === 'commit_reveal_v2' ? await revealDue() : 0;
    // the rate limit, checked here so a refused call costs no fee and says when to come back
    const limitItem = storage(a, 'weightsSetRateLimit', true);
    const lastItem = storage(a, 'lastUpdate', true);
    if (limitItem !== undefined && lastItem !== undefined) {
      const limit = Number((await limitItem(o.netuid)).toString());
      const last = ((await lastItem(o.netuid)).toJSON() as number[] | null)?.[uid] ?? 0;
      const head = await currentBlock();
      if (last > 0 && head - last < limit) {
        throw new SubtensorError('rate_limited', `${context}: ${SUBTENSOR_ERROR_REASONS.rate_limited} [last update at block ${last}, WeightsSetRateLimit ${limit}: next allowed at block ${last + limit}, ${last + limit - head} blocks from now]`);
      }
    }
    const module = a.tx['subtensorModule']!;
    if (mode.path === 'set_weights') {
      const tx = module['setWeights']!(o.netuid, w.uids, w.values, mode.versionKey);
      const blockHash = await sendAndWatch(a, tx, pair, context, o.txTimeoutMs);
      return { path: 'set_weights', uid, weights: w, versionKey: mode.versionKey, blockHash, revealed };
    }
    const salt = Array.from({ length: 8 }, () => Math.floor(o.random() * 65_536));
    const hash = commitHash(pair.publicKey, o.netuid, w, salt, mode.versionKey);
    const hex = `0x${toHex(hash)}`;
    const blockHash = await sendAndWatch(a, module['commitWeights']!(o.netuid, hex), pair, `${context} (commit_weights)`, o.txTimeoutMs);
    pending.push({ weights: w, salt, versionKey: mode.versionKey });
    return { path: 'commit_reveal_v2', uid, weights: w, versionKey: mode.versionKey, blockHash, commitHash: hex, revealed };
  }

  return {
    name: 'subtensor',
    hotkeyAddress: pairPromise.then((p) => p?.address ?? null, () => null),

    registry: async function registry() {
      const a = await api();
      await ensureSubnet(a);
      const entries: [{ args: { toString(): string }[] }, { toString(): string }][] = await storage(a, 'keys').entries(o.netuid);
      const keys = entries.map(([k, v]) => [Number(k.args[1]!.toString()), v.toString()] as const);
      const hotkeys = [...new Set(keys.map(([, h]) => h))];
      const owners: { toString(): string }[] = hotkeys.length > 0 ? await storage(a, 'owner').multi(hotkeys) : [];
      const permits = ((await storage(a, 'validatorPermit')(o.netuid)).toJSON() ?? []) as unknown[];
      const { neurons } = decodeMetagraph({ keys, owners: new Map(hotkeys.map((h, i) => [h, owners[i]!.toString()])), permits });
      return Object.freeze({ takenAt: o.now(), neurons: Object.freeze(neurons) });
    },

    setWeights: async function setWeights(uids: readonly number[], weights: readonly number[]): Promise<void> {
      await submitWeights(uids, weights);
    },
    submitWeights,
    revealDue,
    pendingReveals: () => pending.length,
    weightsMode,
    uidOf,
    tempo,
    currentBlock,

    blocksUntilNextEpoch: async function blocksUntilNextEpoch(block?: number): Promise<number> {
      const b = block ?? (await currentBlock());
      if (!Number.isSafeInteger(b) || b < 0) throw new RangeError(`chainSubtensor.blocksUntilNextEpoch: block ${b} is not a non-negative integer`);
      const t = await tempo();
      if (t === 0) return Number.MAX_SAFE_INTEGER; // tempo 0: the subnet never runs an epoch
      return t - ((b + o.netuid + 1) % (t + 1));
    },

    runtime: async function runtime() {
      const a = await api();
      return { specName: a.runtimeVersion.specName.toString(), specVersion: a.runtimeVersion.specVersion.toNumber() };
    },

    close: async function close(): Promise<void> {
      const p = apiPromise;
      apiPromise = null;
      if (p) await (await p.catch(() => null))?.disconnect();
    },
  };
}

function checkOptions(o: ChainSubtensorOptions): void {
  if (typeof o.endpoint !== 'string' || !/^wss?:\/\/[^\s/]+/.test(o.endpoint)) {
    throw new RangeError(`chainSubtensor: \`endpoint\` ${JSON.stringify(o.endpoint)} is not a ws:// or wss:// URL (e.g. ws://127.0.0.1:9944)`);
  }
  if (!Number.isSafeInteger(o.netuid) || o.netuid < 0 || o.netuid > 65_535) throw new RangeError(`chainSubtensor: \`netuid\` ${o.netuid} is not an integer in 0..65535`);
  if (o.hotkey !== null && (typeof o.hotkey !== 'string' || o.hotkey.trim() === '')) throw new RangeError('chainSubtensor: `hotkey` must be a secret URI or mnemonic, or null');
  if (o.versionKey !== null && (!Number.isSafeInteger(o.versionKey) || o.versionKey < 0)) throw new RangeError('chainSubtensor: `versionKey` must be a non-negative integer, or null for the chain\'s');
  for (const k of ['connectTimeoutMs', 'reconnectMs', 'requestTimeoutMs', 'txTimeoutMs'] as const) {
    if (!(Number.isFinite(o[k]) && o[k] > 0)) throw new RangeError(`chainSubtensor: \`${k}\` must be a positive number of milliseconds`);
  }
}
