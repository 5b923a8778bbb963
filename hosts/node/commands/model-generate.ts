/**
 * `reliquary model generate`: M forced-seed rollouts of one prompt under a checkpoint, as a miner draws them
 * (issue 5, deliverable 3), with a progress bar on stderr.
 *
 *   reliquary model generate --model DIR --prompt TEXT [--rollouts M] [--max-new-tokens N] [--randomness HEX]
 *                            [--prompt-idx I] [--checkpoint-hash REV] [--backend ref|wasm|webgpu] [--json]
 *
 * The tokenizer follows the checkpoint: the devnet character tokenizer for vocabularies of its size (the embedded
 * `models/tiny-arith`), the Qwen3 BPE otherwise (raw encoding, EOS {151643}). Errors are one `model generate: …` line.
 */
import { promises as fsp } from 'node:fs';
import type { ComputeBackend } from '../../../core/compute/backend.ts';
import { loadCheckpoint } from '../../../core/model/checkpoint.ts';
import { generateRollouts, type GenerationProgress } from '../../../core/model/generate.ts';
import { parseQwen3Config } from '../../../core/model/index.ts';
import { modelFromCheckpoint } from '../../../core/model/load.ts';
import { DEVNET, V4 } from '../../../core/profile/index.ts';
import { CHAR_VOCAB_SIZE, DEVNET_CHAR_TOKENIZER, loadQwen3Tokenizer, type Tokenizer } from '../../../core/tokenizer/index.ts';
import { nodeCheckpointFs } from '../fs-checkpoint.ts';
import { BACKENDS, createBackend, DEFAULT_RANDOMNESS } from './model.ts';

export interface ModelGenerateOptions {
  model?: string;
  prompt?: string;
  rollouts?: string;
  maxNewTokens?: string;
  randomness?: string;
  promptIdx?: string;
  checkpointHash?: string;
  backend?: string;
  json?: boolean;
}

class UsageError extends Error {}

function positiveInt(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

/** A one-line progress bar redrawn in place on a terminal; silent when stderr is not a TTY. */
function progressBar(total: number): { update(p: GenerationProgress): void; done(): void } {
  const tty = process.stderr.isTTY === true;
  const width = 30;
  return {
    update(p) {
      if (!tty) return;
      const filled = Math.round((p.step / Math.max(1, total)) * width);
      const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
      process.stderr.write(`\r[${bar}] step ${p.step}/${total} · ${p.generated} tokens · ${p.active} active · ${p.phase}   `);
    },
    done() {
      if (tty) process.stderr.write('\n');
    },
  };
}

/** Runs `model generate`; resolves to the exit code. */
export async function modelGenerateCommand(opts: ModelGenerateOptions): Promise<number> {
  let be: ComputeBackend | undefined;
  try {
    if (!opts.model) throw new UsageError('missing --model DIR');
    if (opts.prompt === undefined) throw new UsageError('missing --prompt TEXT');
    const backendName = opts.backend ?? 'wasm';
    if (!(BACKENDS as readonly string[]).includes(backendName)) {
      throw new UsageError(`unknown backend ${JSON.stringify(backendName)} (expected one of ${BACKENDS.join(', ')})`);
    }
    const stat = await fsp.stat(opts.model).catch(() => null);
    if (!stat?.isDirectory()) throw new UsageError(`no checkpoint directory at ${opts.model}`);
    const ckpt = await loadCheckpoint(nodeCheckpointFs(), opts.model);
    const cfg = parseQwen3Config(ckpt.config);
    const devnet = cfg.V <= CHAR_VOCAB_SIZE;
    const profile = devnet ? DEVNET : V4;
    const tok: Tokenizer = devnet ? DEVNET_CHAR_TOKENIZER : await loadQwen3Tokenizer();
    let prompt: number[];
    try {
      prompt = tok.encode(opts.prompt);
    } catch (e) {
      throw new UsageError(`the ${tok.name} tokenizer cannot encode --prompt: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (prompt.length === 0) throw new UsageError('--prompt encodes to no tokens');
    const rollouts = positiveInt('--rollouts', opts.rollouts, profile.sampling.rollouts);
    const envCap = Object.values(profile.environments)[0]?.maxNewTokens ?? 32;
    const maxNewTokens = positiveInt('--max-new-tokens', opts.maxNewTokens, Math.min(envCap, cfg.maxPositions - prompt.length));
    if (prompt.length + maxNewTokens > cfg.maxPositions) {
      throw new UsageError(`prompt (${prompt.length}) + --max-new-tokens (${maxNewTokens}) exceeds the model's ${cfg.maxPositions} positions`);
    }
    const randomness = (opts.randomness ?? DEFAULT_RANDOMNESS).trim();
    if (!/^[0-9a-fA-F]+$/.test(randomness)) throw new UsageError(`--randomness ${JSON.stringify(opts.randomness)} is not a hex string`);
    const promptIdx = opts.promptIdx === undefined ? 0 : Number(opts.promptIdx);
    if (!Number.isSafeInteger(promptIdx) || promptIdx < 0) throw new UsageError(`--prompt-idx must be a non-negative integer, got ${JSON.stringify(opts.promptIdx)}`);

    be = await createBackend(backendName);
    const model = modelFromCheckpoint(be, ckpt);
    const bar = progressBar(maxNewTokens);
    const t0 = performance.now();
    const out = await generateRollouts(model, {
      prompt,
      profile,
      rollouts,
      maxNewTokens,
      eosTokenIds: tok.eosTokenIds,
      stream: { randomness, promptIdx, checkpointHash: opts.checkpointHash ?? '' },
      onProgress: (p) => bar.update(p),
    });
    bar.done();
    const seconds = (performance.now() - t0) / 1000;
    const rows = out.map((r) => ({
      rollout: r.rolloutIndex,
      completion: tok.decode(Array.from(r.tokens.slice(r.promptLength)), { skipSpecialTokens: false }),
      completion_length: r.completionLength,
      truncated: r.truncated,
      logprob_sum: Array.from(r.logprobs).reduce((a, b) => a + b, 0),
      tokens: Array.from(r.tokens),
      commitments: Array.from(r.commitments),
    }));
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ prompt: opts.prompt, backend: backendName, seconds, rollouts: rows })}\n`);
    } else {
      const generated = rows.reduce((a, r) => a + r.completion_length, 0);
      process.stdout.write(`${rows.length} rollouts of ${JSON.stringify(opts.prompt)} on ${backendName}: ${generated} tokens in ${seconds.toFixed(2)} s\n`);
      for (const r of rows) {
        process.stdout.write(`  #${String(r.rollout).padStart(2)} ${r.truncated ? 'truncated' : 'eos      '} logp ${r.logprob_sum.toFixed(3).padStart(9)}  ${JSON.stringify(r.completion)}\n`);
      }
    }
    return 0;
  } catch (e) {
    process.stderr.write(`model generate: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    be?.destroy();
  }
}
