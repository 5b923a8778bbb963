/**
 * `reliquary model score`: the validator's view of one token sequence under a checkpoint (issue 5, deliverable 6).
 *
 *   reliquary model score --model DIR --tokens FILE [--randomness HEX] [--backend ref|wasm|webgpu] [--json]
 *
 * DIR is a Hugging Face checkpoint (config.json + model.safetensors or shards); FILE holds a JSON array of L token
 * ids. With --json it prints `{"logprobs": [L−1 floats: log p(token[i+1] | tokens[0..i])], "sketches": [L ints: the
 * GRAIL sketch at each position i under the randomness]}` (default randomness: 64 zeros); without, a table. Both come
 * from `proofForward` (core/model/proof.ts) with P = 1, i.e. the same teacher-forced forward a validator runs, so a
 * miner can see why a proof was rejected and anyone can check a checkpoint against another implementation.
 *
 * Exit 0 on success; 1 with a one-line `model score: …` message (no stack trace) for a missing directory, a bad
 * checkpoint or config, an unreadable or malformed token file, a token id out of range, a bad randomness or an
 * unknown backend.
 */
import { promises as fsp } from 'node:fs';
import type { ComputeBackend } from '../../../core/compute/backend.ts';
import { loadCheckpoint } from '../../../core/model/checkpoint.ts';
import { modelFromCheckpoint } from '../../../core/model/load.ts';
import { parseQwen3Config, proofForward } from '../../../core/model/index.ts';
import { V4 } from '../../../core/profile/index.ts';
import { RefBackend } from '../../../kernels/ref/index.ts';
import { createNodeWasmBackend } from '../../../kernels/wasm/node.ts';
import { createNodeWebGPUBackend } from '../../../kernels/webgpu/node-device.ts';
import { nodeCheckpointFs } from '../fs-checkpoint.ts';

export interface ModelScoreOptions {
  model?: string | undefined;
  tokens?: string | undefined;
  /** Window randomness, hex (default 64 zeros). */
  randomness?: string | undefined;
  /** ref | wasm | webgpu (default wasm). */
  backend?: string | undefined;
  json?: boolean | undefined;
  /** Where results and errors go (default stdout / stderr). */
  out?: (text: string) => void;
  err?: (line: string) => void;
}

export const BACKENDS = ['ref', 'wasm', 'webgpu'] as const;
export const DEFAULT_RANDOMNESS = '0'.repeat(64);

/** A refusal the user can act on: printed as one line, never with a stack. */
class UsageError extends Error {}

/**
 * Creates a backend by name: the one the commands (devnet, validator, miner, train, experiment) run their forward,
 * generation, proof and GRPO step on. wasm runs on the cores available (kernels/wasm/node.ts `wasmThreads`;
 * RELIQUARY_WASM_THREADS=1 for one thread); its results do not depend on the thread count.
 */
export async function createBackend(name: string): Promise<ComputeBackend> {
  switch (name) {
    case 'ref': return new RefBackend();
    case 'wasm': return createNodeWasmBackend();
    case 'webgpu': return createNodeWebGPUBackend();
    default: throw new UsageError(`unknown backend ${JSON.stringify(name)} (expected one of ${BACKENDS.join(', ')})`);
  }
}

/** Checkpoint tensors as the model's upload takes them (core/model/load.ts; re-exported for the commands and benches). */
export { modelTensors } from '../../../core/model/load.ts';

async function readTokens(file: string): Promise<number[]> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read --tokens ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--tokens ${file} is not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(data) || data.length === 0) throw new UsageError(`--tokens ${file}: expected a non-empty JSON array of token ids`);
  data.forEach((t, i) => {
    if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0) {
      throw new UsageError(`--tokens ${file}: entry ${i} is ${JSON.stringify(t)}, not a non-negative integer token id`);
    }
  });
  return data as number[];
}

function checkRandomness(hex: string): string {
  const body = hex.trim().replace(/0x/gi, '');
  if (body.length === 0 || !/^[0-9a-fA-F]+$/.test(body)) throw new UsageError(`--randomness ${JSON.stringify(hex)} is not a hex string`);
  return hex.trim();
}

/** Run `model score`; resolves to the exit code. */
export async function modelScoreCommand(opts: ModelScoreOptions): Promise<number> {
  const out = opts.out ?? ((s: string) => void process.stdout.write(s));
  const err = opts.err ?? ((s: string) => void process.stderr.write(`${s}\n`));
  let be: ComputeBackend | undefined;
  try {
    if (!opts.model) throw new UsageError('missing --model DIR');
    if (!opts.tokens) throw new UsageError('missing --tokens FILE');
    const backendName = opts.backend ?? 'wasm';
    if (!(BACKENDS as readonly string[]).includes(backendName)) {
      throw new UsageError(`unknown backend ${JSON.stringify(backendName)} (expected one of ${BACKENDS.join(', ')})`);
    }
    const randomness = checkRandomness(opts.randomness ?? DEFAULT_RANDOMNESS);
    const stat = await fsp.stat(opts.model).catch(() => null);
    if (!stat?.isDirectory()) throw new UsageError(`no checkpoint directory at ${opts.model}`);
    const tokens = await readTokens(opts.tokens);

    const ckpt = await loadCheckpoint(nodeCheckpointFs(), opts.model);
    const cfg = parseQwen3Config(ckpt.config);
    const bad = tokens.findIndex((t) => t >= cfg.V);
    if (bad >= 0) throw new UsageError(`token ${tokens[bad]} at position ${bad} is out of range for vocab_size ${cfg.V}`);

    be = await createBackend(backendName);
    const model = modelFromCheckpoint(be, ckpt);
    const pf = await proofForward(model, tokens, { promptLength: 1, randomness, profile: V4, eosTokenIds: [] });
    const logprobs = Array.from(pf.chosenLogprob);
    const sketches = pf.sketches.map((s) => s ?? 0);
    if (opts.json) {
      out(`${JSON.stringify({ logprobs, sketches })}\n`);
    } else {
      const lines = [`${'pos'.padStart(6)} ${'token'.padStart(8)} ${'logprob'.padStart(14)} ${'sketch'.padStart(11)}`];
      tokens.forEach((t, i) => {
        const lp = i === 0 ? '' : logprobs[i - 1]!.toFixed(6);
        lines.push(`${String(i).padStart(6)} ${String(t).padStart(8)} ${lp.padStart(14)} ${String(sketches[i]).padStart(11)}`);
      });
      out(`${lines.join('\n')}\n`);
    }
    return 0;
  } catch (e) {
    err(`model score: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  } finally {
    be?.destroy();
  }
}
