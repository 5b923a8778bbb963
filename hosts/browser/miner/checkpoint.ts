/**
 * The checkpoint a browser miner generates with, fetched over HTTP from the validator (`GET /checkpoint` for the
 * signed manifest, `GET /checkpoint/files/:file` for the files, hosts/browser/serve.ts) and checked exactly as the Node
 * miner checks one (core/miner/checkpoint-check.ts): the manifest signed by the validator hotkey, for the checkpoint
 * `/state` announced, and the downloaded weights hashing to its revision. Nothing is loaded otherwise (a checkpoint
 * published between the two requests is simply fetched again).
 */
import type { ComputeBackend } from '../../../core/compute/backend.ts';
import type { CheckpointManifest } from '../../../core/interfaces/transport.ts';
import type { CheckpointFs } from '../../../core/model/checkpoint.ts';
import type { Qwen3Model } from '../../../core/model/forward.ts';
import { loadModel } from '../../../core/model/load.ts';
import { checkCheckpoint } from '../../../core/miner/checkpoint-check.ts';

/** A read-only `CheckpointFs` over `GET <base>/<name>`; every file is fetched once. */
export function httpCheckpointFs(fetchFn: typeof fetch = fetch): CheckpointFs {
  const cache = new Map<string, Promise<Uint8Array | null>>();
  const get = (path: string): Promise<Uint8Array | null> => {
    let p = cache.get(path);
    if (!p) {
      p = fetchFn(path, { cache: 'no-store' }).then(async (r) => (r.ok ? new Uint8Array(await r.arrayBuffer()) : null));
      cache.set(path, p);
    }
    return p;
  };
  return {
    async readFile(path) {
      const b = await get(path);
      if (!b) throw new Error(`${path}: not served`);
      return b;
    },
    async writeFile(path) {
      throw new Error(`${path}: the browser miner never writes checkpoints`);
    },
    async exists(path) {
      return (await get(path)) !== null;
    },
  };
}

/** A refused checkpoint (`reason` from `checkCheckpoint`). */
export class CheckpointRefused extends Error {
  override readonly name = 'CheckpointRefused';
  constructor(readonly reason: string, message: string) {
    super(message);
  }
}

/** The current manifest (null: the validator has none yet). */
export async function fetchManifest(base = ''): Promise<CheckpointManifest | null> {
  const r = await fetch(`${base}/checkpoint`, { cache: 'no-store' });
  return r.ok ? ((await r.json()) as CheckpointManifest) : null;
}

/**
 * Downloads the checkpoint `manifest` announces, checks it (signed by `validatorHotkey`, number `expectedN` when
 * given, weights hashing to the revision) and uploads it to `backend`; throws `CheckpointRefused` otherwise.
 */
export async function loadVerifiedModel(
  backend: ComputeBackend, manifest: CheckpointManifest | null, validatorHotkey: string, expectedN?: number, base = '',
): Promise<Qwen3Model> {
  const fs = httpCheckpointFs();
  const dir = `${base}/checkpoint/files`;
  const c = await checkCheckpoint({ manifest, validatorHotkey, fs, dir, ...(expectedN !== undefined ? { expectedN } : {}) });
  if (!c.ok) throw new CheckpointRefused(c.reason, c.message);
  return loadModel(backend, { fs, dir }); // as every host loads a checkpoint: the same uploaded tensors
}
