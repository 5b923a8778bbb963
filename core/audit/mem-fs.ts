/**
 * An in-memory `CheckpointFs` (core imports no node:*): where the audit saves a replayed trainer to hash its
 * weights file exactly as publish.ts hashes a published one.
 *
 * @example
 *   const fs = memoryCheckpointFs();
 *   await saveTrainerCheckpoint(fs, 'ckpt-1', trainer);
 *   await checkpointRevision(fs, 'ckpt-1');
 *   fs.drop('ckpt-1');
 */
import type { CheckpointFs } from '../model/checkpoint.ts';

export interface MemoryCheckpointFs extends CheckpointFs {
  /** Forgets every file under `dir`. */
  drop(dir: string): void;
}

export function memoryCheckpointFs(): MemoryCheckpointFs {
  const files = new Map<string, Uint8Array>();
  return {
    async readFile(path) {
      const b = files.get(path);
      if (!b) throw new Error(`${path}: no such file`);
      return b;
    },
    async writeFile(path, bytes) {
      files.set(path, bytes.slice());
    },
    async exists(path) {
      return files.has(path);
    },
    drop(dir) {
      for (const k of [...files.keys()]) if (k.startsWith(`${dir}/`)) files.delete(k);
    },
  };
}
