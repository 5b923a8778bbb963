/**
 * The embedded tiny model (core/model/tiny.ts, hosts/node/commands/model-make.ts): the supervised batch, a
 * deterministic short recipe run on ref, the shipped checkpoint (shape, size, README), `model inspect`, and a small
 * `model make-tiny` run end to end.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  initTinyWeights, makeTinyArith, parameterCount, runOnExample, sftBatch, sftExample, tinyArithConfigJson, tinyLr, TINY_ARITH_CONFIG, TINY_ARITH_RECIPE,
} from '../../core/model/tiny.ts';
import { parseQwen3Config } from '../../core/model/config.ts';
import { DEVNET } from '../../core/profile/index.ts';
import { DEVNET_CHAR_TOKENIZER } from '../../core/tokenizer/char.ts';
import { RefBackend } from '../../kernels/ref/index.ts';
import { envArith } from '../../plugins/env-arith/index.ts';
import { loadTinyModel } from '../../bench/drift.ts';
import { modelInspectCommand, modelMakeTinyCommand } from '../../hosts/node/commands/model-make.ts';

const env = envArith();
const tok = DEVNET_CHAR_TOKENIZER;

describe('tiny config and recipe', () => {
  it('is a small Qwen3 over the devnet vocabulary, round-tripping through config.json', () => {
    expect(parseQwen3Config(tinyArithConfigJson())).toEqual(TINY_ARITH_CONFIG);
    expect(TINY_ARITH_CONFIG.V).toBe(DEVNET.model.vocabSize);
    expect(parameterCount(TINY_ARITH_CONFIG)).toBe(100_736);
  });

  it('builds prompt ‖ answer ‖ EOS examples with dlogp = −1/N on the answer rows only', () => {
    const ex = sftExample(env, 3, tok);
    expect(tok.decode(ex.tokens)).toBe(`${env.getProblem(3).prompt}${env.getProblem(3).groundTruth}<|endoftext|>`);
    const b = sftBatch([ex, sftExample(env, 8500, tok)], tok.padTokenId);
    expect(b.dlogp.reduce((a, x) => a + x, 0)).toBeCloseTo(-1, 6);
    const first = b.dlogp.subarray(0, b.T);
    expect(Array.from(first.subarray(0, ex.promptLen - 1)).every((x) => x === 0)).toBe(true);
    expect(first[ex.promptLen - 1]).toBeCloseTo(-1 / b.N, 6);
  });

  it('builds run-on examples (the base recipe): prompt ‖ answer ‖ "\\n" ‖ more problems with answers ‖ EOS, supervised after the first prompt', () => {
    const ex = runOnExample(env, 3, [10, 20], tok);
    const p = (i: number) => env.getProblem(i);
    expect(tok.decode(ex.tokens)).toBe(`${p(3).prompt}${p(3).groundTruth}\n${p(10).prompt}${p(10).groundTruth}\n${p(20).prompt}${p(20).groundTruth}<|endoftext|>`);
    expect(ex.promptLen).toBe(tok.encode(p(3).prompt).length);
    const b = sftBatch([ex], tok.padTokenId);
    expect(b.N).toBe(ex.tokens.length - ex.promptLen);
  });

  it('a run-on share of 0 leaves the devnet recipe\'s draws (and weights) unchanged', async () => {
    const run = async (continueFraction?: number) => makeTinyArith(new RefBackend(), {
      env, tokenizer: tok, recipe: { seed: 5, steps: 2, batchSize: 8, warmupSteps: 1, ...(continueFraction !== undefined ? { continueFraction } : {}) },
    });
    const emb = (x: Awaited<ReturnType<typeof run>>) => x.tensors.get('model.embed_tokens.weight')!.data;
    const [plain, zero, half] = [await run(), await run(0), await run(0.5)];
    expect(emb(zero)).toEqual(emb(plain));
    expect(emb(half)).not.toEqual(emb(plain));
  });

  it('warms up then decays the LR to minLrFactor·lr', () => {
    const r = { ...TINY_ARITH_RECIPE, steps: 100 };
    expect(tinyLr(0, r)).toBeCloseTo(r.lr / r.warmupSteps, 12);
    expect(tinyLr(r.warmupSteps, r)).toBeCloseTo(r.lr, 12);
    expect(tinyLr(99, r)).toBeCloseTo(r.lr * r.minLrFactor, 12);
  });

  it('is deterministic on ref for a seed, and the loss falls', async () => {
    const run = async (seed: number) => makeTinyArith(new RefBackend(), {
      env, tokenizer: tok, recipe: { seed, steps: 6, batchSize: 16, warmupSteps: 2 },
    });
    const [a, b, c] = [await run(5), await run(5), await run(6)];
    const emb = (x: typeof a) => x.tensors.get('model.embed_tokens.weight')!.data;
    expect(emb(a)).toEqual(emb(b));
    expect(emb(a)).not.toEqual(emb(c));
    expect(a.log.map((s) => s.loss)).toEqual(b.log.map((s) => s.loss));
    expect(a.log[5]!.loss).toBeLessThan(a.log[0]!.loss);
    expect(initTinyWeights(TINY_ARITH_CONFIG, 1).get('model.norm.weight')!.data.every((x) => x === 1)).toBe(true);
  });
});

describe('the shipped checkpoint models/tiny-arith', () => {
  it('loads as the tiny config, f32, under 2 MB, with a README stating how it was made and its pass@1', async () => {
    const { cfg, tensors } = await loadTinyModel('models/tiny-arith');
    expect(cfg).toEqual(TINY_ARITH_CONFIG);
    expect([...tensors.values()].every((t) => t.data instanceof Float32Array)).toBe(true);
    expect((await stat('models/tiny-arith/model.safetensors')).size).toBeLessThan(2_000_000);
    const readme = await readFile('models/tiny-arith/README.md', 'utf8');
    expect(readme).toMatch(/reliquary model make-tiny --out models\/tiny-arith --seed \d+ --steps \d+/);
    expect(readme).toMatch(/\| all \| \d+ \| \d+ \| 0\.\d{3} \|/);
  });

  it('`model inspect` prints the config, parameter count, tensors and a pass@1 estimate', async () => {
    let text = '';
    expect(await modelInspectCommand({ model: 'models/tiny-arith', evalPerLevel: 2, out: (t) => (text += t) })).toBe(0);
    expect(text).toContain('parameters: 100,736');
    expect(text).toContain('model.embed_tokens.weight');
    expect(text).toMatch(/\| all \|/);
    let json = '';
    expect(await modelInspectCommand({ model: 'models/tiny-arith', json: true, evalPerLevel: 1, out: (t) => (json += t) })).toBe(0);
    const r = JSON.parse(json) as { parameters: number; dtypes: Record<string, number>; passAt1: { levels: unknown[] } };
    expect(r.parameters).toBe(100_736);
    expect(r.dtypes).toEqual({ f32: 2 * 11 + 2 });
    expect(r.passAt1.levels).toHaveLength(9);
    let err = '';
    expect(await modelInspectCommand({ model: '/nonexistent', err: (t) => (err += t) })).toBe(1);
    expect(err).toMatch(/^model inspect: /);
  });
});

describe('model make-tiny', () => {
  it('writes a loadable checkpoint and README from a short ref run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tiny-'));
    try {
      let out = '';
      let err = '';
      const code = await modelMakeTinyCommand({ out: dir, seed: 3, steps: 2, backend: 'ref', evalPerLevel: 1, out_: (t) => (out += t), err: (t) => (err += t) });
      expect(code).toBe(0);
      expect(err).toContain('step    0  loss');
      expect(out).toMatch(/\| all \| 9 \| 36 \|/);
      const { cfg } = await loadTinyModel(dir);
      expect(cfg).toEqual(TINY_ARITH_CONFIG);
      expect(await readFile(join(dir, 'README.md'), 'utf8')).toContain(`--out ${dir} --seed 3 --steps 2 --backend ref`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
