/**
 * `reliquary bench stages --quick` on every backend: the report has a row of every stage at both shapes (training
 * left out where the bench says so), a roofline per backend and shape, the verify/generate ratios, and the table
 * prints. Shapes and fields only: nothing here asserts a speed.
 */
import { describe, expect, it } from 'vitest';
import { formatStages } from '../../bench/stages-command.ts';
import { benchStages, STAGES } from '../../bench/stages.ts';

describe('bench stages --quick', () => {
  it('reports every stage of both shapes on ref, wasm (2 threads) and webgpu', async () => {
    const r = await benchStages({ quick: true, threads: 2 });
    const failed = r.notes.filter((n) => !n.reason.startsWith('train: no training cell'));
    expect(failed, JSON.stringify(failed)).toEqual([]);
    for (const backend of ['ref', 'wasm', 'webgpu']) {
      for (const shape of ['tiny', 'qwen3-0.6b']) {
        expect(r.matmul.some((m) => m.backend === backend && m.shape === shape && m.gflops > 0)).toBe(true);
        expect(r.ratios.find((x) => x.backend === backend && x.shape === shape)?.verify_over_generate).toBeGreaterThan(0);
        const stages = STAGES.filter((s) => !(s === 'train' && backend === 'ref' && shape === 'qwen3-0.6b'));
        for (const stage of stages) {
          const row = r.rows.find((x) => x.backend === backend && x.shape === shape && x.stage === stage);
          expect(row, `${backend} ${shape} ${stage}`).toBeDefined();
          expect(row!.tokens).toBeGreaterThan(0);
          expect(row!.ms).toBeGreaterThan(0);
          expect(row!.peak_rss_bytes).toBeGreaterThan(0);
          expect(row!.cpu_ms).toBeGreaterThanOrEqual(0);
          if (stage !== 'admission') expect(row!.roofline).toBeGreaterThan(0);
          if (stage !== 'admission') expect(row!.cpu_ms).toBeGreaterThan(0);
          if (stage !== 'admission') expect(row!.roofline_cpu).toBeGreaterThan(0);
          if (backend === 'wasm' && stage !== 'admission') expect(row!.wasm_memory_bytes).toBeGreaterThan(0);
        }
      }
    }
    expect(r.rows.find((x) => x.backend === 'wasm' && x.shape === 'tiny' && x.stage === 'verify')?.note).toBe('accepted');
    const text = formatStages(r).join('\n');
    expect(text).toContain('verification / generation');
  }, 180_000);
});
