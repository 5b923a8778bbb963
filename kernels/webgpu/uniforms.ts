/**
 * Uniforms declared once: a kernel lists its uniform fields (name and type, in order) and gets both the WGSL struct
 * (`struct <Name> { … }`, bound at the binding after its buffers) and the packing of a values object into the uniform
 * words `GpuContext.run` uploads, so the shader's layout and the host's cannot drift apart. Every field is one
 * 32-bit word (u32, i32 or f32, the f32 passed as its bits), which keeps the WGSL uniform layout a plain array.
 *
 * @example
 *   const P = uniforms('Params', { rows: 'u32', scale: 'f32' });
 *   `${P.wgsl}\n@group(0) @binding(4) var<uniform> p: Params;`      // in the shader
 *   ctx.run(program, buffers, P.pack({ rows, scale: 1 / Math.sqrt(HD) }), grid(rows));
 */
import { f32Bits } from './context.ts';

export type UniformType = 'u32' | 'i32' | 'f32';

export interface Uniforms<F extends Record<string, UniformType>> {
  /** The WGSL struct declaration. */
  readonly wgsl: string;
  /** The uniform words of `values`, in declaration order. */
  pack(values: { readonly [K in keyof F]: number }): number[];
}

export function uniforms<F extends Record<string, UniformType>>(name: string, fields: F): Uniforms<F> {
  const entries = Object.entries(fields) as [keyof F & string, UniformType][];
  return {
    wgsl: `struct ${name} { ${entries.map(([n, t]) => `${n}: ${t}`).join(', ')} }`,
    pack(values) {
      return entries.map(([n, t]) => {
        const x = values[n];
        if (!Number.isFinite(x)) throw new Error(`webgpu: uniform ${name}.${n} is ${x}`);
        return t === 'f32' ? f32Bits(x) : t === 'i32' ? x | 0 : x >>> 0;
      });
    },
  };
}
