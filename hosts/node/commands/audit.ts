/**
 * `reliquary audit`: replay a validator's windows from its object store and a chain (core/audit/audit.ts) — re-hash
 * every bundle, check the validator's and every miner's signatures against the registry, re-prove every group on the
 * replayed checkpoint, replay every GRPO step and re-derive every checkpoint hash, verify the custody manifests.
 *
 *   reliquary audit --store fs:./data                         # a devnet data dir (its store/ is used)
 *   reliquary audit --store 's3://bucket/prefix?endpoint=http://127.0.0.1:9000' --chain local --window 3
 *   reliquary audit --store fs:DIR --chain 'subtensor:wss://node?netuid=7' --from 2 --to 9 --validator 5F…
 *
 * One line per check (`window N  check  ok|FAIL  detail`), then a summary with the audit time per window. Exit 0 only
 * when every check holds, 1 when one fails, 2 on a usage error (one line).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { auditValidator, type AuditLine } from '../../../core/audit/audit.ts';
import type { PiOldTolerance } from '../../../core/audit/pi-old.ts';
import type { Chain } from '../../../core/interfaces/chain.ts';
import type { ObjectStore } from '../../../core/interfaces/store.ts';
import { loadCheckpoint } from '../../../core/model/checkpoint.ts';
import { DEVNET, type Profile } from '../../../core/profile/index.ts';
import { DEVNET_CHAR_TOKENIZER } from '../../../core/tokenizer/char.ts';
import { signerFromSeed } from '../../../core/protocol/sr25519.ts';
import { follow, formatFollowerReport } from '../../../core/validator/follower.ts';
import { checkpointRevision } from '../../../core/validator/publish.ts';
import { createNodeWasmBackend } from '../../../kernels/wasm/node.ts';
import { chainLocal } from '../../../plugins/chain-local/index.ts';
import { envArith } from '../../../plugins/env-arith/index.ts';
import { storeFs } from '../../../plugins/store-fs/index.ts';
import { nodeCheckpointFs } from '../fs-checkpoint.ts';
import { storeEntry } from '../nodes/store-spec.ts';

export interface AuditCommandOptions {
  store: string;
  /** `local` (the registry in the same store, as the devnet keeps it) or `subtensor:wss://…?netuid=N`. */
  chain?: string | undefined;
  validator?: string | undefined;
  window?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  /** The base model the checkpoints descend from. */
  model: string;
  json?: boolean | undefined;
  /** How the re-derived π_old must match the stored one: `exact` (default: this audit runs the validator's WASM
   * reference), `profile` (the profile's `proof.logprobMaxAbs`, for a validator on another backend) or a number. */
  piOldTolerance?: string | undefined;
  /** Run as a follower validator (core/validator/follower.ts): a file with the follower's 32-byte key seed; its
   * signed verdicts are published into the same store and the cross-validator report is printed. */
  followerSeed?: string | undefined;
  out?: (line: string) => void;
  err?: (line: string) => void;
  /** Default DEVNET. */
  profile?: Profile;
}

class UsageError extends Error {}

/** `fs:DIR` (a devnet data dir's `store/` when it has one) or `s3://bucket/prefix?endpoint=…` (nodes/store-spec.ts). */
export async function openStore(spec: string): Promise<ObjectStore> {
  if (spec.startsWith('fs:')) {
    const dir = resolve(spec.slice(3));
    if (!existsSync(dir)) throw new UsageError(`--store ${spec}: no such directory`);
    return storeFs({ dir: existsSync(join(dir, 'store')) ? join(dir, 'store') : dir, fsync: false });
  }
  if (spec.startsWith('s3://')) {
    let options: Record<string, unknown>;
    try {
      options = { ...storeEntry(spec).options };
    } catch (e) {
      throw new UsageError(e instanceof Error ? e.message : String(e));
    }
    const { storeS3 } = await import('../../../plugins/store-s3/index.ts'); // the AWS SDK only when asked for
    return storeS3(options);
  }
  throw new UsageError(`--store ${spec}: expected fs:DIR or s3://bucket/prefix?endpoint=…`);
}

async function openChain(spec: string, store: ObjectStore): Promise<Chain> {
  if (spec === 'local') return chainLocal({ store });
  if (spec.startsWith('subtensor:')) {
    const u = new URL(spec.slice('subtensor:'.length));
    const netuid = Number(u.searchParams.get('netuid'));
    if (!Number.isSafeInteger(netuid)) throw new UsageError(`--chain ${spec}: missing ?netuid=N`);
    u.search = '';
    const { chainSubtensor } = await import('../../../plugins/chain-subtensor/index.ts'); // @polkadot/api only when asked for
    return chainSubtensor({ endpoint: u.toString(), netuid, hotkey: null });
  }
  throw new UsageError(`--chain ${spec}: expected local or subtensor:wss://…?netuid=N`);
}

const int = (flag: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`${flag} ${v}: expected a window number`);
  return n;
};

const tolerance = (v: string | undefined, profile: Profile): PiOldTolerance => {
  if (v === undefined || v === 'exact') return 'exact';
  if (v === 'profile') return profile.proof.logprobMaxAbs;
  const x = Number(v);
  if (!Number.isFinite(x) || x < 0) throw new UsageError(`--pi-old-tolerance ${v}: expected exact, profile or a non-negative number`);
  return x;
};

/** The validator of the store: `--validator`, else the only one with archives. */
async function findValidator(store: ObjectStore, given: string | undefined): Promise<string> {
  if (given) return given;
  const hot = [...new Set((await store.list('reliquary/')).map((k) => /^reliquary\/([^/]+)\/dataset\//.exec(k)?.[1]).filter((x): x is string => !!x))];
  if (hot.length === 1) return hot[0]!;
  throw new UsageError(hot.length === 0 ? 'the store holds no validator archives (reliquary/<hotkey>/dataset/)' : `the store holds ${hot.length} validators' archives: pick one with --validator`);
}

const fmt = (l: AuditLine): string => `window ${l.window}  ${l.check.padEnd(17)} ${l.ok ? 'ok  ' : 'FAIL'}  ${l.detail}`;

/** Runs the audit; resolves to the exit code. */
export async function auditCommand(o: AuditCommandOptions): Promise<number> {
  const out = o.out ?? ((s: string) => void process.stdout.write(`${s}\n`));
  const err = o.err ?? ((s: string) => void process.stderr.write(`${s}\n`));
  let chain: Chain | null = null;
  let store: ObjectStore | null = null;
  try {
    const profile = o.profile ?? DEVNET;
    store = await openStore(o.store);
    chain = await openChain(o.chain ?? 'local', store);
    const validator = await findValidator(store, o.validator);
    const one = int('--window', o.window);
    const from = one ?? int('--from', o.from);
    const to = one ?? int('--to', o.to);
    const model = resolve(o.model);
    const fs = nodeCheckpointFs();
    if (!existsSync(join(model, 'config.json'))) throw new UsageError(`--model ${o.model}: not a checkpoint directory (no config.json)`);
    const be = await createNodeWasmBackend();
    const env = envArith();
    const t0 = performance.now();
    try {
      const input = {
        store, chain, validator, profile, backend: be, base: await loadCheckpoint(fs, model), baseRevision: await checkpointRevision(fs, model),
        tokenizer: DEVNET_CHAR_TOKENIZER, envs: { [env.name]: env }, checkpointFs: fs, from, to, piOldTolerance: tolerance(o.piOldTolerance, profile),
        onLine: o.json ? undefined : (l: AuditLine) => (l.ok ? out : err)(fmt(l)),
      };
      if (o.followerSeed !== undefined) {
        let seed: Uint8Array;
        try {
          seed = readFileSync(o.followerSeed);
        } catch {
          throw new UsageError(`--follower-seed ${o.followerSeed}: cannot read the file`);
        }
        if (seed.length !== 32) throw new UsageError(`--follower-seed ${o.followerSeed}: expected a 32-byte seed, got ${seed.length} bytes`);
        const f = await follow({ ...input, signer: signerFromSeed(seed), publishTo: store });
        out(o.json ? JSON.stringify({ ...f, lines: undefined }) : formatFollowerReport(f));
        return f.auditOk && f.agreement === 1 ? 0 : 1;
      }
      const r = await auditValidator(input);
      const secs = (performance.now() - t0) / 1000;
      const failed = r.lines.filter((l) => !l.ok);
      const perWindow = r.windows.length ? secs / r.windows.length : 0;
      if (o.json) out(JSON.stringify({ ok: r.ok, validator, block: r.block, seconds: secs, secondsPerWindow: perWindow, lines: r.lines }));
      else out(`audit ${r.ok ? 'PASSED' : 'FAILED'}: ${r.windows.length} window(s), ${r.lines.length} check(s), ${failed.length} failed${failed.length ? ` (${[...new Set(failed.map((l) => `window ${l.window} ${l.check}`))].join(', ')})` : ''}; ${secs.toFixed(1)} s, ${perWindow.toFixed(2)} s/window`);
      return r.ok ? 0 : 1;
    } finally {
      be.destroy();
    }
  } catch (e) {
    err(`audit: ${e instanceof Error ? e.message : String(e)}`);
    return e instanceof UsageError ? 2 : 1;
  } finally {
    (chain as { close?: () => unknown } | null)?.close?.();
    (store as { close?: () => unknown } | null)?.close?.(); // an S3 store's sockets
  }
}
