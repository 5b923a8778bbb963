/**
 * Dispatch of RoPE forward (rope.wgsl.ts) and backward (rope-backward.wgsl.ts). The cos/sin table for (HD, θ, past, T)
 * is built on the host and kept in one small cache shared by both directions, since q and k of every layer rotate by
 * the same positions.
 */
import { ropeTable } from '../../core/compute/rope.ts';
import { grid, type GpuContext } from './context.ts';
import { ROPE_ROWS, ROPE_WG, RopeParams, ropeWgsl } from './rope.wgsl.ts';
import { ROPE_BACKWARD_WG, RopeBackwardParams, ropeBackwardWgsl } from './rope-backward.wgsl.ts';

const TABLES_KEPT = 4;

export class RopeDispatch {
  private readonly tables = new Map<string, GPUBuffer>();

  constructor(private readonly ctx: GpuContext) {}

  private table(HD: number, theta: number, past: number, T: number): GPUBuffer {
    const key = `${HD}:${theta}:${past}:${T}`;
    let buf = this.tables.get(key);
    if (!buf) {
      const { cos, sin } = ropeTable(HD, theta, past, T);
      const both = new Float32Array(cos.length * 2);
      both.set(cos);
      both.set(sin, cos.length);
      buf = this.ctx.createBuffer(both.byteLength, `rope table ${key}`, both);
      if (this.tables.size >= TABLES_KEPT) {
        const [oldest, old] = this.tables.entries().next().value!;
        this.tables.delete(oldest);
        this.ctx.release(old);
      }
      this.tables.set(key, buf);
    }
    return buf;
  }

  run(out: GPUBuffer, inp: GPUBuffer, B: number, T: number, NH: number, HD: number, past: number, theta: number): void {
    const rows = B * T * NH;
    const table = this.table(HD, theta, past, T);
    const invocations = Math.ceil(rows / ROPE_ROWS) * (HD / 2);
    this.ctx.run({ key: 'rope', code: ropeWgsl }, [out, inp, table], RopeParams.pack({ rows, T, NH, H2: HD / 2 }),
      grid(Math.ceil(invocations / ROPE_WG)));
  }

  /** dinp += the transposed rotation of dout (accumulates, llm.c style). */
  runBackward(dinp: GPUBuffer, dout: GPUBuffer, B: number, T: number, NH: number, HD: number, past: number, theta: number): void {
    const n = (B * T * NH * HD) / 2;
    const table = this.table(HD, theta, past, T);
    this.ctx.run({ key: 'ropeBackward', code: ropeBackwardWgsl }, [dinp, dout, table],
      RopeBackwardParams.pack({ n, T, NH, H2: HD / 2 }), grid(Math.ceil(n / ROPE_BACKWARD_WG)));
  }
}
