/**
 * The kernel bench as a correctness smoke test: every cell runs once on tiny shapes (one call, no timing
 * assertions — tests never depend on how fast this machine is) and the rows must be well-formed JSON. Also checks
 * the hand-written ONNX model the ORT peer runs, and the batch arithmetic of `measure`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { benchKernelsCommand } from '../../bench/command.ts';
import { benchKernels, measure, type BenchReport } from '../../bench/kernels.ts';
import { matmulOnnxModel } from '../../bench/peers.ts';
import { formatTable, peerRatios, type BenchRow } from '../../bench/table.ts';

const UNITS = new Set(['GFLOP/s', 'µs', 'GB/s', 'tok/s', 'pos/s']);
const OURS = ['ref', 'wasm', 'webgpu'];
const PEERS = ['tfjs-wasm', 'ort'];

function wellFormed(r: BenchRow): void {
  expect(Object.keys(r).sort()).toEqual(['backend', 'bench', 'shape', 'unit', 'value', 'value_cpu']);
  expect(typeof r.bench).toBe('string');
  expect(r.bench.length).toBeGreaterThan(0);
  expect([...OURS, ...PEERS]).toContain(r.backend);
  expect(typeof r.shape).toBe('string');
  expect(r.shape.length).toBeGreaterThan(0);
  expect(UNITS.has(r.unit), `unit ${r.unit}`).toBe(true);
  expect(Number.isFinite(r.value) && r.value > 0, `${r.bench} ${r.shape} ${r.backend} = ${r.value}`).toBe(true);
  expect(Number.isFinite(r.value_cpu) && r.value_cpu! > 0, `${r.bench} ${r.shape} ${r.backend}: CPU-time value ${r.value_cpu}`).toBe(true);
}

describe('bench kernels (tiny shapes, one call per cell)', () => {
  let report: BenchReport;
  beforeAll(async () => {
    report = await benchKernels({ size: 'tiny', timing: { iterations: 1, repeats: 1, warmup: 0 } });
  }, 120_000);

  it('gives well-formed rows that survive a JSON round trip', () => {
    expect(report.rows.length).toBeGreaterThan(0);
    for (const r of report.rows) wellFormed(r);
    expect(JSON.parse(JSON.stringify(report.rows))).toEqual(report.rows);
  });

  it('measures every op on every backend and the matmuls on both peers, without failures', () => {
    const failed = report.notes.filter((n) => n.reason.startsWith('failed') || n.reason.startsWith('not available'));
    expect(failed).toEqual([]);
    for (const backend of OURS) {
      for (const bench of ['matmul', 'attention', 'rmsnorm', 'rope', 'lm-head', 'sketch', 'model']) {
        expect(report.rows.some((r) => r.backend === backend && r.bench === bench), `${bench} on ${backend}`).toBe(true);
      }
    }
    for (const peer of PEERS) expect(report.rows.some((r) => r.backend === peer && r.bench === 'matmul'), peer).toBe(true);
    expect(report.peers).toEqual(PEERS);
  });

  it('prints a table with a ratio against each peer', () => {
    const lines = formatTable(report.rows, report.notes, report.peers);
    expect(lines[0]).toMatch(/^bench\s+shape\s+backend\s+value\s+CPU-time value\s+unit\s+vs tfjs-wasm\s+vs ort$/);
    const ratios = peerRatios(report.rows, report.peers);
    expect(ratios.some((q) => q.ours === 'wasm' && q.peer === 'tfjs-wasm')).toBe(true);
    expect(ratios.every((q) => q.ours !== 'ref' && Number.isFinite(q.ratio))).toBe(true);
    expect(lines.some((l) => / wasm\/tfjs-wasm \d+\.\d\d×$/.test(l))).toBe(true);
  });
});

describe('bench kernels command', () => {
  it('--json prints only the array of rows on stdout', async () => {
    let out = '';
    const code = await benchKernelsCommand({ json: true, backends: 'wasm', peers: false }, { out: (t) => (out += t), err: () => {} }, 'tiny');
    expect(code).toBe(0);
    const rows = JSON.parse(out) as BenchRow[];
    expect(Array.isArray(rows)).toBe(true);
    for (const r of rows) wellFormed(r);
    expect(new Set(rows.map((r) => r.backend))).toEqual(new Set(['wasm']));
  }, 60_000);

  it('rejects an unknown backend with exit code 2', async () => {
    let err = '';
    const code = await benchKernelsCommand({ backends: 'wasm,cuda' }, { out: () => {}, err: (t) => (err += t) }, 'tiny');
    expect(code).toBe(2);
    expect(err).toMatch(/unknown backend cuda/);
  });
});

describe('measure', () => {
  it('runs warmup, then `repeats` batches of a fixed size, syncing once per batch', async () => {
    let calls = 0;
    let syncs = 0;
    const ms = await measure(() => calls++, async () => void syncs++, { minTimeMs: 0, repeats: 3, warmup: 2, iterations: 5 });
    expect(calls).toBe(2 + 3 * 5);
    expect(syncs).toBe(1 + 3);
    expect(ms).toBeGreaterThanOrEqual(0);
  });
});

describe('the ORT peer model', () => {
  it('is a valid ONNX MatMul: Y = A · B', async () => {
    const ort = await import('onnxruntime-node');
    const [T, C, OC] = [3, 4, 5];
    const a = Float32Array.from({ length: T * C }, (_, i) => i - 5);
    const b = Float32Array.from({ length: C * OC }, (_, i) => (i % 7) / 4);
    const session = await ort.InferenceSession.create(matmulOnnxModel(b, T, C, OC));
    const out = await session.run({ A: new ort.Tensor('float32', a, [T, C]) });
    const y = out['Y']!;
    expect(y.dims).toEqual([T, OC]);
    const want = new Float32Array(T * OC);
    for (let t = 0; t < T; t++) for (let o = 0; o < OC; o++) for (let c = 0; c < C; c++) want[t * OC + o]! += a[t * C + c]! * b[c * OC + o]!;
    expect(Array.from(y.data as Float32Array)).toEqual(Array.from(want));
    await session.release();
  });
});
