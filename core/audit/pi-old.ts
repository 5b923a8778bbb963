/**
 * The recomputed π_old (spec/training.md §1.7 rung 1): the validator's proof-forward log-probability of each
 * completion token (`logit − logsumexp`, fp32; core/model/proof.ts `chosenLogprob`), kept byte for byte from the
 * seal to the training step and into the window's replay bundle.
 *
 * Encoding: per rollout, the completion-length Float32Array as little-endian bytes in base64 (standard alphabet,
 * padded). The bytes are exactly what the proof forward produced (NaN included, e.g. entry 0 of a prompt-less
 * rollout), so the training step of the live node and of the audit read the same doubles.
 *
 * Comparing a recomputation with the stored bytes (`piOldMismatch`):
 *   'exact'     bit for bit: the same backend on the same checkpoint (the WASM reference is deterministic)
 *   tolerance   |Δ| ≤ tolerance per token, NaN only against NaN: another backend (WebGPU vs WASM) computes the same
 *               fp32 forward in a different summation order, which the profile bounds by `proof.logprobMaxAbs`
 *
 * @example
 *   const s = encodePiOld(proof.chosenLogprob);
 *   decodePiOld(s, proof.chosenLogprob.length);          // Float32Array, same bits, or null
 *   piOldMismatch(recomputed, s, 'exact');               // null | 'token 3: stored -2.1, recomputed -2.3'
 */

/** base64 of a Float32Array's little-endian bytes. */
export function encodePiOld(lp: Float32Array): string {
  const bytes = new Uint8Array(lp.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < lp.length; i++) view.setFloat32(i * 4, lp[i]!, true);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/** The Float32Array of an encoded π_old of `n` tokens, or null when the text is not that (hostile input). */
export function decodePiOld(s: unknown, n: number): Float32Array | null {
  if (typeof s !== 'string' || s.length !== 4 * Math.ceil((n * 4) / 3) || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return null;
  let bin: string;
  try {
    bin = atob(s);
  } catch {
    return null;
  }
  if (bin.length !== n * 4) return null;
  const view = new DataView(new ArrayBuffer(n * 4));
  for (let i = 0; i < bin.length; i++) view.setUint8(i, bin.charCodeAt(i));
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** How a recomputed π_old is compared with a stored one (see the file header). */
export type PiOldTolerance = 'exact' | number;

const sameBits = (a: number, b: number): boolean => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

/** Null when `recomputed` matches the stored encoding under `tol`, else the first differing token, said plainly. */
export function piOldMismatch(recomputed: Float32Array, stored: unknown, tol: PiOldTolerance): string | null {
  const s = decodePiOld(stored, recomputed.length);
  if (s === null) return `stored π_old is not ${recomputed.length} f32 values`;
  for (let j = 0; j < s.length; j++) {
    const a = s[j]!, b = recomputed[j]!;
    const ok = tol === 'exact' ? sameBits(a, b) : (Number.isNaN(a) ? Number.isNaN(b) : Math.abs(a - b) <= tol);
    if (!ok) return `token ${j}: stored ${a}, recomputed ${b}${tol === 'exact' ? ' (bitwise)' : ` (tolerance ${tol})`}`;
  }
  return null;
}
