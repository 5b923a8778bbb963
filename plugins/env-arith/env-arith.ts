/**
 * `envArith(options)`: the devnet task — integer arithmetic problems addressed by index, graded by exact answer.
 *
 * Problem `i` (wrapped modulo `size`) is a pure function of `(seed, i)`: its level comes from where `i` sits in its
 * split, and the operator and operands from `sha256("reliquary/arith/v1|" ‖ seed ‖ "|" ‖ i)`. Levels go from one-digit
 * sums (a tiny model learns them in a few steps) through multi-digit sums and differences (the frontier) to
 * multi-digit products (out of reach), so the market has easy, in-zone and impossible prompts to tell apart.
 * Digit counts grow with the index inside each split: `[0, trainSize)` is the market's index space, divided into
 * equal bands, one per level; the held-out split (`heldOut`, indices `trainSize …` in the same generator) has the
 * same bands and is never offered to miners, only used to measure pass@1.
 *
 * Prompt: `"<a><op><b>="` (e.g. `"47+8="`), only characters of the devnet char tokenizer. Ground truth: the
 * decimal result (may be negative). Reward: 1 when the completion, without one trailing EOS text and trimmed of
 * whitespace (`arithAnswerText`), is exactly the ground truth (`"055"` and `"+55"` are wrong), else 0; it never throws. Problem id: the first 16 hex of sha256(prompt),
 * so two indices with the same prompt share an id (content cooldown catches them).
 *
 * @example
 *   const env = envArith();
 *   const p = env.getProblem(3);           // { prompt: '4+7=', groundTruth: '11', id: '…' }
 *   env.computeReward(p, '11');            // 1
 *   env.heldOut.getProblem(0).prompt;      // a level-0 held-out problem
 */
import { safeReward, wrapIndex, type Environment, type EnvironmentSpec, type Problem } from '../../core/interfaces/environment.ts';
import { hex, readUBE, utf8 } from '../../core/protocol/codec.ts';
import { sha256 } from '../../core/protocol/hash.ts';

/** One difficulty level: the operators drawn from and the digit count of each operand. */
export interface ArithLevel {
  readonly ops: readonly ('+' | '-' | '*')[];
  readonly digitsA: number;
  readonly digitsB: number;
}

/** Levels from easy to impossible for the embedded tiny model (a 1-digit operand is 0–9; d digits: 10^(d−1)…10^d − 1). */
export const ARITH_LEVELS: readonly ArithLevel[] = Object.freeze([
  { ops: ['+'], digitsA: 1, digitsB: 1 },
  { ops: ['+', '-'], digitsA: 1, digitsB: 1 },
  { ops: ['+', '-'], digitsA: 2, digitsB: 1 },
  { ops: ['*'], digitsA: 1, digitsB: 1 },
  { ops: ['+', '-'], digitsA: 2, digitsB: 2 },
  { ops: ['+', '-'], digitsA: 3, digitsB: 3 },
  { ops: ['*'], digitsA: 2, digitsB: 1 },
  { ops: ['*'], digitsA: 2, digitsB: 2 },
  { ops: ['*'], digitsA: 4, digitsB: 3 },
].map((l) => Object.freeze({ ...l, ops: Object.freeze(l.ops) })) as ArithLevel[]);

export interface EnvArithOptions {
  /** Wire name of the environment. */
  name: string;
  /** Generator seed: another seed is another problem set. */
  seed: string;
  /** Problems offered to the market: indices `[0, trainSize)`. */
  trainSize: number;
  /** Held-out problems (indices `trainSize …` of the generator). */
  heldOutSize: number;
  levels: readonly ArithLevel[];
}

/** Documented defaults: `arith`, 9000 market problems (1000 per level) and 900 held out. */
export const ENV_ARITH_DEFAULTS: Readonly<EnvArithOptions> = Object.freeze({
  name: 'arith',
  seed: 'devnet',
  trainSize: 9000,
  heldOutSize: 900,
  levels: ARITH_LEVELS,
});

const DOMAIN = 'reliquary/arith/v1|';

/**
 * What env-arith declares about itself (the devnet profile's `arith` entry and mix weight): 32 new tokens, a binary
 * reward, 4 groups per step, one truncated rollout per group, free-form answers.
 */
export const ARITH_SPEC: EnvironmentSpec = Object.freeze({
  maxNewTokens: 32, rewardKind: 'binary', mixWeight: 4, maxTruncatedPerGroup: 1, answerFormat: null, workerTimeoutSeconds: 5,
});

/** The arithmetic environment: the market split, plus the held-out split and each index's level. */
export interface ArithEnvironment extends Environment {
  readonly answerFormat: null;
  /** Held-out split (same levels; never offered to miners). */
  readonly heldOut: Environment & { level(i: number): number };
  /** Level (index into `levels`) of market problem `i`. */
  level(i: number): number;
}

/** The devnet arithmetic environment. */
export function envArith(options: Partial<EnvArithOptions> = {}): ArithEnvironment {
  const o: EnvArithOptions = { ...ENV_ARITH_DEFAULTS, ...options };
  for (const k of ['trainSize', 'heldOutSize'] as const) {
    if (!(Number.isSafeInteger(o[k]) && o[k] >= 1)) throw new RangeError(`envArith: \`${k}\` must be an integer ≥ 1`);
  }
  if (!(o.levels?.length > 0)) throw new RangeError('envArith: `levels` must list at least one level');
  for (const [i, l] of o.levels.entries()) {
    const digitsOk = [l.digitsA, l.digitsB].every((d) => Number.isSafeInteger(d) && d >= 1 && d <= 7);
    if (!digitsOk || l.ops.length === 0 || l.ops.some((op) => op !== '+' && op !== '-' && op !== '*')) {
      throw new RangeError(`envArith: level ${i} needs ops from + - * and 1–7 digits per operand`);
    }
  }

  /** Level of position `local` in a split of `n` problems: equal bands, growing with the index. */
  const levelIn = (local: number, n: number): number => Math.min(o.levels.length - 1, Math.floor((local * o.levels.length) / n));

  /** Problem number `g` of the generator, whose level is `levelIdx`. */
  function generate(g: number, levelIdx: number): Problem {
    const level = o.levels[levelIdx]!;
    const h = sha256(utf8(`${DOMAIN}${o.seed}|${g}`));
    const op = level.ops[Number(readUBE(h, 0, 4) % BigInt(level.ops.length))]!;
    const a = operand(readUBE(h, 4, 8), level.digitsA);
    const b = operand(readUBE(h, 12, 8), level.digitsB);
    const value = op === '+' ? a + b : op === '-' ? a - b : a * b;
    const prompt = `${a}${op}${b}=`;
    return Object.freeze({ prompt, groundTruth: String(value), id: problemId(prompt) });
  }

  const reward = function computeReward(problem: Problem, completionText: string): number {
    return exactAnswerReward(problem, completionText);
  };

  const heldOutLevel = (i: number): number => levelIn(wrapIndex(i, o.heldOutSize), o.heldOutSize);
  const heldOut = Object.freeze({
    name: `${o.name}-heldout`,
    size: o.heldOutSize,
    answerFormat: null,
    level: heldOutLevel,
    getProblem: function getHeldOutProblem(i: number): Problem {
      const local = wrapIndex(i, o.heldOutSize);
      return generate(o.trainSize + local, heldOutLevel(local));
    },
    computeReward: reward,
  });

  const level = (i: number): number => levelIn(wrapIndex(i, o.trainSize), o.trainSize);
  return Object.freeze({
    name: o.name,
    size: o.trainSize,
    answerFormat: null,
    spec: ARITH_SPEC,
    heldOut,
    promptBucket: (problem: Problem) => arithPromptBucket(problem, o.name),
    difficultyHint: (problem: Problem) => arithDifficultyPrior(problem),
    level,
    getProblem: function getProblem(i: number): Problem {
      const local = wrapIndex(i, o.trainSize);
      return generate(local, level(local));
    },
    computeReward: reward,
  });
}

/** The EOS text of the devnet char tokenizer (`core/tokenizer/char.ts`, id 1), as `decode(…, skip_special_tokens=False)` writes it. */
export const ARITH_EOS_TEXT = '<|endoftext|>';

/**
 * The graded answer of a completion text: one trailing EOS text removed, then whitespace trimmed. The spec grades
 * `decode(completion, skip_special_tokens=False)` (training.md §2), which keeps the EOS text that ends every
 * terminated completion (`"11<|endoftext|>"`); miner and validator both call the environment's reward on that
 * same text, so stripping it here keeps them in agreement. A completion truncated at the cap has no EOS and is
 * graded as it is; an EOS text anywhere else stays in (and scores 0).
 */
export function arithAnswerText(completionText: string, eosText: string = ARITH_EOS_TEXT): string {
  const t = completionText.trimEnd();
  return (t.endsWith(eosText) ? t.slice(0, t.length - eosText.length) : t).trim();
}

/** 1 when the completion's answer text (`arithAnswerText`) equals the ground truth exactly, else 0; never throws (junk scores 0). */
export function exactAnswerReward(problem: Problem, completionText: string): number {
  return safeReward(
    {
      computeReward: (p, text) => (typeof text === 'string' && typeof p?.groundTruth === 'string' && arithAnswerText(text) === p.groundTruth ? 1 : 0),
    },
    problem,
    completionText,
  );
}

/** Problem id: the first 16 hex characters of sha256(prompt). */
export function problemId(prompt: string): string {
  return hex(sha256(utf8(prompt))).slice(0, 16);
}

/** An operand of `digits` digits from 64 random bits: 0–9 for one digit, else 10^(d−1) … 10^d − 1. */
function operand(bits: bigint, digits: number): number {
  const lo = digits === 1 ? 0n : 10n ** BigInt(digits - 1);
  const hi = 10n ** BigInt(digits);
  return Number(lo + (bits % (hi - lo)));
}

/** Cheap features of an arithmetic prompt, read from its text alone (any miner can compute them). */
export interface ArithPromptFeatures {
  readonly op: '+' | '-' | '*';
  readonly digitsA: number;
  readonly digitsB: number;
  /** `"<digitsA>d<op><digitsB>d"`, e.g. `"2d+1d"` for `"47+8="`: a feature bucket for a selector's learned prior. */
  readonly key: string;
}

/**
 * The operator and operand digit counts of a prompt `"<a><op><b>="` (e.g. `"47+8="` → 2d+1d), or null when the
 * text is not of that shape. Parsed from the prompt text only (no index, no level): what a miner can see.
 *
 * @example
 *   arithPromptFeatures('12*34=');  // { op: '*', digitsA: 2, digitsB: 2, key: '2d*2d' }
 */
export function arithPromptFeatures(prompt: string): ArithPromptFeatures | null {
  const m = /^\s*-?(\d+)\s*([+\-*])\s*-?(\d+)\s*=\s*$/.exec(prompt);
  if (!m) return null;
  const op = m[2] as '+' | '-' | '*';
  const digitsA = m[1]!.length;
  const digitsB = m[3]!.length;
  return { op, digitsA, digitsB, key: `${digitsA}d${op}${digitsB}d` };
}

/** A selector feature bucket for env-arith prompts: `${env}|${key}` (else `${env}|other`). */
export function arithPromptBucket(problem: Problem, env: string): string {
  return `${env}|${arithPromptFeatures(problem.prompt)?.key ?? 'other'}`;
}

/**
 * A generic difficulty guess for an env-arith prompt, from its shape only: the digit work of the schoolbook method,
 * `digitsA + digitsB` for a sum or difference, plus `digitsA·digitsB − 1` partial-product steps for a product. The
 * guessed pass rate falls with the work — a logistic, ½ at `midpoint` digits of work (default 4: a small model is
 * assumed to manage one- and two-digit operations and fail longer ones), one e-fold per digit — as a Beta of
 * strength `strength` (weak: a few groups outweigh it). It is a prior belief, not a measurement: no pass rate of
 * any model went into it. For selector-frontier's `bucketHint` (the hint depends on the `arithPromptBucket` only).
 * Null when the prompt is not of the `"<a><op><b>="` shape.
 *
 * @example
 *   arithDifficultyPrior({ prompt: '47+8=', groundTruth: '55', id: '' }); // mean ≈ 0.73 (3 digits of work)
 */
export function arithDifficultyPrior(problem: Problem, _env?: string, midpoint = 4, strength = 2): readonly [number, number] | null {
  const f = arithPromptFeatures(problem.prompt);
  if (!f) return null;
  const work = f.digitsA + f.digitsB + (f.op === '*' ? f.digitsA * f.digitsB - 1 : 0);
  const mean = Math.min(0.995, Math.max(0.005, 1 / (1 + Math.exp(work - midpoint))));
  return [mean * strength, (1 - mean) * strength];
}
