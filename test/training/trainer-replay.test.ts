/**
 * `reliquary train step` (hosts/node/commands/train.ts): one GRPO step from a checkpoint directory and a batch file
 * to the next checkpoint, byte-identical when run twice on ref; chained replays; one-line refusals.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, saveCheckpoint } from '../../core/model/checkpoint.ts';
import { DEVNET, V4 } from '../../core/profile/index.ts';
import { encodeBatchFile, type TrainBatch } from '../../core/training/batch-file.ts';
import { PROFILE_FILE } from '../../core/training/state.ts';
import { trainStepCommand, type TrainStepOptions } from '../../hosts/node/commands/train.ts';
import { nodeCheckpointFs } from '../../hosts/node/fs-checkpoint.ts';
import { stepBatch, tinyCheckpoint, tinyConfig } from './trainer-fixture.ts';

const root = mkdtempSync(join(tmpdir(), 'reliquary-train-step-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const cfg = tinyConfig(false);

function batchFile(name: string, window: number, seed: number, gz = false): string {
  const env = stepBatch(cfg.V, seed)[0]!;
  const batch: TrainBatch = {
    profileId: DEVNET.id, window, checkpointRevision: null,
    groups: env.groups.map((g, i) => ({
      env: 'arith', promptIdx: i,
      rollouts: g.map((r) => ({ tokens: r.tokens, promptLength: r.promptLen, reward: r.reward, piOld: null })),
    })),
  };
  const path = join(root, name);
  const text = encodeBatchFile(batch);
  writeFileSync(path, gz ? gzipSync(text) : text);
  return path;
}

async function run(opts: TrainStepOptions): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await trainStepCommand({ ...opts, write: (s) => void (out += s), err: (s) => void (err += `${s}\n`) });
  return { code, out, err };
}

function dirBytes(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f))]));
}

describe('reliquary train step', () => {
  const model = join(root, 'ck0');
  const batch7 = batchFile('batch-7.json', 7, 60);

  it('writes the next checkpoint, byte-identical when run twice (also from a gzipped batch)', async () => {
    await saveCheckpoint(nodeCheckpointFs(), model, tinyCheckpoint(cfg, 17));
    const a = await run({ model, batch: batch7, out: join(root, 'ck1a') });
    expect(a.err).toBe('');
    expect(a.code).toBe(0);
    expect(a.out).toMatch(/^step 0 applied: loss .* ratio \[1\.0000, 1\.0000\], .* π_old recomputed for 12\n→ /);
    const b = await run({ model, batch: batchFile('batch-7.json.gz', 7, 60, true), out: join(root, 'ck1b'), backend: 'ref', json: true });
    expect(b.code).toBe(0);
    expect(JSON.parse(b.out)).toMatchObject({ step: 0, applied: true, skipped: null, sequences: 12 });

    const one = dirBytes(join(root, 'ck1a'));
    expect([...one.keys()]).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'reliquary_optimizer_state.safetensors', PROFILE_FILE]);
    expect(dirBytes(join(root, 'ck1b'))).toEqual(one);
    expect(JSON.parse(one.get(PROFILE_FILE)!.toString())).toMatchObject({ lr_schedule_step: 1, trained_window_cursor: 7, profile_id: DEVNET.id });
    const before = await loadCheckpoint(nodeCheckpointFs(), model);
    const after = await loadCheckpoint(nodeCheckpointFs(), join(root, 'ck1a'));
    expect(after.tensors.get('model.layers.0.mlp.up_proj.weight')!.data).not.toEqual(before.tensors.get('model.layers.0.mlp.up_proj.weight')!.data);
  });

  it('chains: the next batch continues from the written state; a consumed window is refused', async () => {
    const c = await run({ model: join(root, 'ck1a'), batch: batchFile('batch-8.json', 8, 61), out: join(root, 'ck2') });
    expect(c.code).toBe(0);
    expect(c.out).toMatch(/^step 1 applied/);
    expect(JSON.parse(readFileSync(join(root, 'ck2', PROFILE_FILE), 'utf8'))).toMatchObject({ lr_schedule_step: 2, trained_window_cursor: 8 });
    const again = await run({ model: join(root, 'ck1a'), batch: batch7, out: join(root, 'ck2x') });
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/^train step: trainStep: window 7 is not after the trained window cursor 7\n$/);
  });

  it.each<[string, () => TrainStepOptions, RegExp]>([
    ['missing --batch', () => ({ model, out: join(root, 'e1') }), /^train step: missing --batch FILE\n$/],
    ['no model directory', () => ({ model: join(root, 'nope'), batch: batch7, out: join(root, 'e2') }), /no checkpoint directory at/],
    ['non-empty --out', () => ({ model, batch: batch7, out: join(root, 'ck1a') }), /--out .*ck1a is not empty/],
    ['--out = --model', () => ({ model, batch: batch7, out: model }), /--out must differ from --model/],
    ['unknown backend', () => ({ model, batch: batch7, out: join(root, 'e3'), backend: 'cuda' }), /unknown backend "cuda"/],
    ['batch for another profile', () => ({ model, batch: batch7, out: join(root, 'e4'), profile: V4.id }), /\$\.profile_id: the batch is for profile "reliquary-devnet-v2", the trainer runs "qwen3-4b-base-dapo-v4"/],
    ['model trained under another profile', () => ({ model: join(root, 'ck1a'), batch: batch7, out: join(root, 'e5'), profile: V4.id }), /--model was trained under profile reliquary-devnet-v2, not qwen3-4b-base-dapo-v4/],
    ['unreadable batch', () => ({ model, batch: join(root, 'missing.json'), out: join(root, 'e6') }), /cannot read --batch .*missing\.json: ENOENT/],
  ])('refuses: %s', async (_, opts, message) => {
    const r = await run(opts());
    expect(r.code).toBe(1);
    expect(r.err).toMatch(message);
    expect(r.err.split('\n').length).toBe(2); // one line
  });
});
