/**
 * `reliquary train --env MODULE` (issue 12): the offline loop takes an environment plugin as the nodes do — here
 * the env-digits module copied outside the source tree, on a random tiny checkpoint — trains on it under the
 * effective profile (its spec), measures pass@1 on its own problems since it has no held-out split (said once on
 * stderr), and a module that cannot be loaded is one line.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { saveCheckpoint } from '../../core/model/checkpoint.ts';
import { randomQwen3Weights } from '../../core/model/init.ts';
import { TINY_ARITH_CONFIG, tinyArithConfigJson } from '../../core/model/tiny.ts';
import { trainCommand } from '../../hosts/node/commands/train-loop.ts';
import { nodeCheckpointFs } from '../../hosts/node/fs-checkpoint.ts';

const dir = mkdtempSync(join(tmpdir(), 'reliquary-train-env-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('reliquary train --env', () => {
  it('trains on an environment module from outside the source tree', async () => {
    const model = join(dir, 'model');
    const tensors = new Map([...randomQwen3Weights(TINY_ARITH_CONFIG, 5)].map(([n, t]) => [n, { dtype: 'f32' as const, shape: t.shape, data: t.data as Float32Array }]));
    await saveCheckpoint(nodeCheckpointFs(), model, { config: tinyArithConfigJson(), tensors, generationConfig: { eos_token_id: 1 } });
    copyFileSync(resolve('test/nodes/fixtures/env-digits.mjs'), join(dir, 'env-digits.mjs'));
    let out = '', err = '';
    const code = await trainCommand({
      model, env: join(dir, 'env-digits.mjs'), steps: 1, evalEvery: 1, json: true, backend: 'wasm',
      write: (t) => void (out += t), err: (t) => void (err += t),
    });
    expect(err).toBe('train: environment digits has no held-out split; pass@1 is measured on its own problems\n');
    expect(code).toBe(0);
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { type: string; env?: string; problems?: number });
    expect(lines.map((l) => l.type)).toEqual(['eval', 'step', 'eval', 'summary']);
    expect(lines[lines.length - 1]!.env).toBe('digits');
    expect(lines[0]!.problems).toBeGreaterThan(0);
  }, 60_000);

  it('a built-in environment by name (env-arith, the default): its held-out split, no notice', async () => {
    let out = '', err = '';
    const code = await trainCommand({ model: join(dir, 'model'), env: 'env-arith', steps: 1, evalEvery: 0, json: true, write: (t) => void (out += t), err: (t) => void (err += t) });
    expect(err).toBe('');
    expect(code).toBe(0);
    const summary = JSON.parse(out.trim().split('\n').pop()!) as { type: string; env: string };
    expect(summary).toMatchObject({ type: 'summary', env: 'arith' });
  }, 60_000);

  it('an environment module that cannot be loaded is one line', async () => {
    let err = '';
    expect(await trainCommand({ model: resolve('models/tiny-arith'), env: join(dir, 'missing.mjs'), steps: 1, err: (t) => void (err += t), write: () => {} })).toBe(1);
    expect(err).toMatch(/^train: plugin ".*missing\.mjs" is not a built-in .* and cannot be imported: .*\n$/);
    expect(err.split('\n')).toHaveLength(2);
  });
});
