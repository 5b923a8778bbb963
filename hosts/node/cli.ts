/**
 * The `reliquary` command line (Node host): wires files, the clock and the console into the runtime-agnostic core.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { benchGradingCommand, benchKernelsCommand, type BenchKernelsFlags } from '../../bench/command.ts';
import { benchStagesCommand, type BenchStagesFlags } from '../../bench/stages-command.ts';
import { runConformance } from './conformance/runner.ts';
import { beaconVerifyCommand } from './commands/beacon.ts';
import { modelScoreCommand } from './commands/model.ts';
import { modelInspectCommand, modelMakeTinyCommand } from './commands/model-make.ts';
import { modelGenerateCommand, type ModelGenerateOptions } from './commands/model-generate.ts';
import { benchDriftCommand, type BenchDriftFlags } from '../../bench/drift.ts';
import { benchProofCommand, type BenchProofFlags } from '../../bench/proof.ts';
import { trainStepCommand } from './commands/train.ts';
import { trainCommand, type TrainOptions } from './commands/train-loop.ts';
import { experimentCommand, type ExperimentFlags } from './commands/experiment.ts';
import { benchTrainCommand, type BenchTrainFlags } from '../../bench/train.ts';
import { startCommand } from './commands/start.ts';
import { devnetCommand, type DevnetCommandOptions } from './commands/devnet.ts';
import { devnetCodeCommand } from './commands/devnet-code.ts';
import { validatorCommand, type ValidatorCommandOptions } from './nodes/validator-command.ts';
import { minerCommand, type MinerCommandOptions } from './nodes/miner-command.ts';
import { auditCommand, type AuditCommandOptions } from './commands/audit.ts';

// A closed pipe (`reliquary … | head`) ends the output quietly instead of crashing with EPIPE.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

/** Repository root: the bundle lives in dist/, the sources in hosts/node/. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), import.meta.url.includes('/dist/') ? '..' : '../..');

const program = new Command('reliquary')
  .description('Reliquary-TS: a decentralized RL training market with a WASM/WebGPU compute core')
  .showHelpAfterError();

program
  .command('devnet')
  .description('the main job: a local validator and competing miners on the embedded tiny model, window after window, then a report')
  .option('--windows <n>', 'windows to run', '3')
  .option('--miners <n>', 'miners (the first runs selector-frontier, the others selector-uniform)', '3')
  .option('--data <dir>', 'durable state (archives, chain, checkpoints), relative to the working directory; a rerun resumes it', './data')
  .option('--model <dir>', 'initial checkpoint', resolve(ROOT, 'models/tiny-arith'))
  .option('--fresh', 'start from an empty --data directory')
  .option('--groups <n>', 'groups per miner per window (default: the hotkey quota)')
  .option('--json', 'print the report as JSON')
  .option('--report <file>', 'also write the JSON report to a file')
  .option('--quiet', 'no live progress on stderr')
  .option('--store <spec>', "the validator's object store, passed to `reliquary validator --store`: fs:DIR or s3://bucket/prefix?endpoint=http://127.0.0.1:9000")
  .option('--env <name>', 'arith (default) or code: env-code graded by the pyodide sandbox, on a tiny random Qwen3 (state in <data>/code-devnet)', 'arith')
  .option('--collection <s>', '--env code: collection seconds of a window (default 60)')
  .option('--seed <n>', '--env code: seed of the random model (default 15)')
  .action(async (opts: DevnetCommandOptions & { env?: string; collection?: string; seed?: string }) => {
    if (opts.env === 'code') process.exitCode = await devnetCodeCommand({ ...opts, windows: opts.windows === '3' ? undefined : opts.windows, miners: opts.miners === '3' ? undefined : opts.miners });
    else if (opts.env !== undefined && opts.env !== 'arith') {
      process.stderr.write(`reliquary devnet: --env must be arith or code, got ${JSON.stringify(opts.env)}\n`);
      process.exitCode = 2;
    } else process.exitCode = await devnetCommand(opts, ROOT);
  });

const collect = (v: string, acc: string[]): string[] => [...acc, v];

program
  .command('validator')
  .description('a validator node: assembled from plugins (default: the embedded model, the local chain and beacon, env-arith); serves miners over HTTP, runs windows, trains and publishes')
  .option('--config <file>', 'node config: JSON or a JS module listing plugins and options (docs/plugins.md)')
  .option('--env <module>', 'add an environment plugin: a local path or a package name (repeatable)', collect, [])
  .option('--data <dir>', 'durable state (store, chain, checkpoints); a rerun resumes it', './data')
  .option('--store <spec>', 'the object store instead of <data>/store: fs:DIR or s3://bucket/prefix?endpoint=http://127.0.0.1:9000 (credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)')
  .option('--follow <leader>', "run as a follower of this leader (hotkey or URL): re-verify each window from the leader's store (--store or the config's), publish signed verdicts, serve /follow")
  .option('--publish <spec>', 'follower: where its signed verdicts go (default: fs:<data>/store)')
  .option('--poll-seconds <s>', "follower: how often the leader's store is polled", '2')
  .option('--port <p>', 'HTTP port on 127.0.0.1 (0: any free port)', '8899')
  .option('--windows <n>', 'exit after N windows (default: run until stopped)')
  .option('--miners <n>', 'wait for N miners to register before the first window (0: start at once; a window admits the miners registered when it opens)', '1')
  .option('--collection-seconds <s>', "collection phase length (default: the profile's)")
  .option('--model <dir>', 'initial checkpoint', resolve(ROOT, 'models/tiny-arith'))
  .option('--report <file>', 'write a JSON report: per-window results and per-miner hotkey, submitted, accepted, paid')
  .option('--held-out', 'held-out pass@1 before the first window and after the last (in the report)')
  .option('--linger', 'after the last window keep serving until SIGINT/SIGTERM (miners read their last verdicts), then write the report')
  .option('--quiet', 'no progress on stderr')
  .action(async (opts: ValidatorCommandOptions) => {
    process.exitCode = await validatorCommand(opts, ROOT);
  });

program
  .command('miner')
  .description('a miner node: creates its key in --data on first run, registers with the validator, mines until stopped or N windows')
  .requiredOption('--validator <url>', 'the validator URL (printed by `reliquary validator`)')
  .option('--config <file>', 'node config: environment plugins and "selector" (docs/plugins.md)')
  .option('--env <module>', 'add an environment plugin: a local path or a package name (repeatable)', collect, [])
  .option('--data <dir>', 'where the miner keeps its keys', './miner-data')
  .option('--windows <n>', 'exit after N windows (default: run until stopped)')
  .option('--groups <n>', 'groups per window (default: the hotkey quota)')
  .option('--name <name>', 'name in the logs (and in the validator\'s)')
  .option('--report <file>', 'write a JSON report of the windows mined')
  .option('--beacon-max-age <seconds>', 'oldest drand round a window may open on, or "off" (default: collection + upload grace + 2 periods + 30 s)')
  .option('--quiet', 'no progress on stderr')
  .action(async (opts: MinerCommandOptions) => {
    process.exitCode = await minerCommand(opts);
  });

program
  .command('walkthrough')
  .description('one protocol round on the devnet profile with a toy LM (honest and adversarial miners), then the conformance vectors')
  .option('--vectors <file>', 'conformance vector file', resolve(ROOT, 'test/vectors/protocol.json'))
  .option('--beacons <file>', 'drand quicknet beacons (JSON)', resolve(ROOT, 'test/vectors/drand-quicknet.json'))
  .action(async (opts: { vectors: string; beacons: string }) => {
    process.exitCode = await startCommand(opts);
  });

program
  .command('conformance')
  .description('run a vector file {"version":1,"cases":[…]} against this implementation')
  .argument('<file>', 'vector file (JSON)')
  .action((file: string) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      process.stderr.write(`conformance: cannot read ${file}: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 2;
      return;
    }
    const report = runConformance(text, file);
    for (const line of report.lines) process.stdout.write(`${line}\n`);
    process.exitCode = report.exitCode;
  });

const bench = program.command('bench').description('benchmarks');
bench
  .command('kernels')
  .description('kernel throughput of the ref/wasm/webgpu backends beside tfjs-wasm (1 thread) and onnxruntime-node')
  .option('--json', 'print the rows [{bench, backend, shape, value, unit}] as JSON')
  .option('--quick', 'smaller shapes and shorter timing (under 30 s)')
  .option('--backends <list>', 'comma-separated subset of ref,wasm,webgpu')
  .option('--no-peers', 'leave out the peer libraries')
  .option('--threads <n>', 'wasm threads, one column per count beside the 1-thread one (e.g. 2, or 2,4)')
  .action(async (opts: BenchKernelsFlags) => {
    process.exitCode = await benchKernelsCommand(opts);
  });

bench
  .command('stages')
  .description('generation, proof verification, admission and GRPO training per backend at the tiny and a Qwen3-0.6B shape, with roofline ratios and peak memory')
  .option('--json', 'print the report {machine, matmul, rows, ratios, notes} as JSON')
  .option('--quick', 'tiny token counts and a 1-layer 0.6B shape: fields only (the test suite)')
  .option('--backends <list>', 'comma-separated subset of ref,wasm,webgpu')
  .option('--threads <n>', 'wasm threads (default: RELIQUARY_WASM_THREADS, else the cores)')
  .action(async (opts: BenchStagesFlags) => {
    process.exitCode = await benchStagesCommand(opts);
  });

bench
  .command('train')
  .description('GRPO step time per 1k tokens on each backend')
  .option('--json', 'rows as JSON on stdout')
  .option('--quick', 'smaller batch, shorter timing')
  .option('--backends <list>', 'subset of ref,wasm,webgpu')
  .action(async (o: BenchTrainFlags) => {
    process.exitCode = await benchTrainCommand(o);
  });

bench
  .command('grading')
  .description('code environment: tests/s through the pyodide sandbox with warm interpreters and with a fresh one per completion')
  .option('--json', 'print the rows [{bench, backend, shape, value, unit}] as JSON')
  .option('--quick', '12 warm and 2 fresh completions')
  .action(async (opts: { json?: boolean; quick?: boolean }) => {
    process.exitCode = await benchGradingCommand(opts);
  });

bench
  .command('drift')
  .description('cross-backend drift on the tiny model and its effect on the proof checks (every miner→validator pair, forged miners)')
  .option('--json', 'print the rows [{bench, backend, shape, value, unit}] as JSON')
  .option('--quick', 'one prompt per level, 4 rollouts')
  .option('--model <dir>', 'checkpoint directory', 'models/tiny-arith')
  .option('--backends <list>', 'comma-separated subset of ref,wasm,webgpu')
  .action(async (opts: BenchDriftFlags) => {
    process.exitCode = await benchDriftCommand(opts);
  });

bench
  .command('proof')
  .description('forgery table: every attack of issue 11 through admission and the prover, honest false rejects over the 9 backend pairs, calibration and cost')
  .option('--json', 'print {profile, attacks, honest, calibration, cost, notes} as JSON')
  .option('--quick', 'wasm only, 6 groups per attack (well under a minute)')
  .option('--profile <id>', 'protocol profile (a non-tiny profile lends its proof to the devnet model)')
  .option('--model <dir>', 'checkpoint directory', 'models/tiny-arith')
  .option('--backends <list>', 'comma-separated subset of ref,wasm,webgpu for the honest matrix')
  .option('--groups <n>', 'groups per attack row (default 500, --quick 6)')
  .action(async (opts: BenchProofFlags) => {
    process.exitCode = await benchProofCommand(opts);
  });

const model = program.command('model').description('Qwen3 checkpoints');
model
  .command('make-tiny')
  .description('make the embedded devnet model: seeded init + supervised warm start on env-arith, then pass@1 per level')
  .option('--out <dir>', 'output checkpoint directory (default models/tiny-arith, with --recipe base models/tiny-arith-base)')
  .option('--seed <n>', 'init and sampling seed', '1')
  .option('--steps <n>', "optimizer steps (default: the recipe's, 2000 devnet, 1000 base)")
  .option('--backend <name>', 'ref | wasm (default: wasm when it has the backward ops, else ref)')
  .option('--eval-per-level <n>', 'held-out problems per level for pass@1', '100')
  .option('--recipe <name>', 'devnet (models/tiny-arith) or base (models/tiny-arith-base: half the examples run on after the answer)', 'devnet')
  .action(async (opts: { out?: string; seed: string; steps?: string; backend?: string; evalPerLevel: string; recipe: string }) => {
    process.exitCode = await modelMakeTinyCommand(opts);
  });
model
  .command('generate')
  .description('M forced-seed rollouts of one prompt under a checkpoint, as a miner draws them (progress bar on stderr)')
  .requiredOption('--model <dir>', 'checkpoint directory')
  .requiredOption('--prompt <text>', 'prompt text (raw encoding, no template)')
  .option('--rollouts <m>', 'rollouts (default: the profile M)')
  .option('--max-new-tokens <n>', 'generation cap (default: the environment cap)')
  .option('--randomness <hex>', 'window randomness (default 64 zeros)')
  .option('--prompt-idx <i>', 'prompt index of the forced-seed stream', '0')
  .option('--checkpoint-hash <rev>', 'checkpoint revision of the forced-seed stream', '')
  .option('--backend <name>', 'ref | wasm | webgpu', 'wasm')
  .option('--json', 'print the rollouts (tokens, commitments, completions) as JSON')
  .action(async (opts: ModelGenerateOptions) => {
    process.exitCode = await modelGenerateCommand(opts);
  });
model
  .command('inspect')
  .description('config, parameter count, dtypes, tensors and a quick pass@1 estimate of a checkpoint')
  .requiredOption('--model <dir>', 'checkpoint directory')
  .option('--json', 'print the report as JSON')
  .option('--backend <name>', 'ref | wasm | webgpu for the pass@1 estimate', 'wasm')
  .option('--eval-per-level <n>', 'held-out problems per level (0 skips the estimate)', '4')
  .action(async (opts: { model: string; json?: boolean; backend: string; evalPerLevel: string }) => {
    process.exitCode = await modelInspectCommand(opts);
  });
model
  .command('score')
  .description("log-probs and GRAIL sketches of a token sequence under a checkpoint (the validator's proof forward)")
  .requiredOption('--model <dir>', 'Hugging Face checkpoint directory (config.json + safetensors)')
  .requiredOption('--tokens <file>', 'JSON array of token ids')
  .option('--randomness <hex>', 'window randomness for the sketches (default 64 zeros)')
  .option('--backend <name>', 'ref | wasm | webgpu', 'wasm')
  .option('--json', 'print {"logprobs": [...], "sketches": [...]}')
  .action(async (opts: { model: string; tokens: string; randomness?: string; backend: string; json?: boolean }) => {
    process.exitCode = await modelScoreCommand(opts);
  });

const train = program.command('train').description('GRPO training (default: the offline loop on the embedded model)');
train
  .command('run', { isDefault: true })
  .description('offline GRPO loop on the embedded model and an environment (default env-arith): generate groups, keep in-zone ones, step')
  .option('--model <dir>', 'trainer checkpoint', 'models/tiny-arith')
  .option('--env <module>', 'environment plugin: a built-in name (env-arith, env-math), a module path or a package', 'env-arith')
  .option('--steps <n>', 'optimizer steps', '20')
  .option('--backend <b>', 'ref | wasm | webgpu', 'wasm')
  .option('--out <dir>', 'write the final checkpoint + trainer state here')
  .option('--eval-every <k>', 'held-out pass@1 every K steps (0: never)', '10')
  .option('--json', 'one JSON object per line')
  .action(async (o: TrainOptions) => {
    process.exitCode = await trainCommand(o);
  });
train
  .command('step')
  .description('replay one GRPO step: a checkpoint + a batch file (archive format) → the next checkpoint, deterministic per backend')
  .requiredOption('--model <dir>', 'trainer checkpoint directory (HF checkpoint + optional trainer state)')
  .requiredOption('--batch <file>', 'batch file (reliquary-grpo-batch/v1 JSON, optionally gzipped)')
  .requiredOption('--out <dir>', 'new or empty directory for the next checkpoint')
  .option('--backend <name>', 'ref | wasm | webgpu (must implement the backward ops)', 'ref')
  .option('--profile <id>', "protocol profile (default: the one recorded in --model, else the batch's, else v4)")
  .option('--json', 'print the step record as JSON')
  .action(async (opts: { model: string; batch: string; out: string; backend: string; profile?: string; json?: boolean }) => {
    process.exitCode = await trainStepCommand(opts);
  });

program
  .command('experiment')
  .description('the seeds\' experiment: uniform GRPO vs DAPO filter vs the market (fill-closed windows), R seeds, paired held-out evals')
  .option('--quick', 'a smoke run (≤ 5 min on 2 cores)')
  .option('--out <dir>', 'write report.md, report.json and SVG plots here (new or empty)')
  .option('--steps <n>', 'step budget S').option('--seeds <n>', 'seeds R').option('--groups <n>', 'groups per step B (window size N)')
  .option('--miners <n>', 'market miners K').option('--eval-problems <n>', 'held-out problems').option('--eval-k <n>', 'samples per held-out problem')
  .option('--eval-every <n>', 'held-out eval every E steps').option('--lr <x>', 'learning rate').option('--arms <list>', 'subset of uniform,filter,market')
  .option('--model <dir>', 'initial checkpoint (default: the run-on base model, models/tiny-arith-base)', resolve(ROOT, 'models/tiny-arith-base')).option('--json', 'the config and summary as JSON on stdout')
  .action(async (o: ExperimentFlags) => {
    process.exitCode = await experimentCommand(o);
  });

const beacon = program.command('beacon').description('drand quicknet beacons');
beacon
  .command('verify')
  .description('verify a drand quicknet beacon offline: BLS signature and randomness = sha256(signature)')
  .option('--round <n>', 'round number')
  .option('--signature <hex>', 'G1 signature, 48 bytes hex')
  .option('--randomness <hex>', 'expected randomness (default: recomputed)')
  .option('--beacons <file>', 'verify every beacon of a file {"beacons":[…]} instead')
  .action(async (opts: { round?: string; signature?: string; randomness?: string; beacons?: string }) => {
    process.exitCode = await beaconVerifyCommand(opts);
  });

program
  .command('audit')
  .description("replay a validator's windows from its store and the chain: bundles re-hashed, signatures, proofs, GRPO steps and checkpoint hashes re-derived, custody manifests; exit 0 only when every check holds")
  .requiredOption('--store <spec>', 'fs:DIR (a devnet --data dir works) or s3://bucket?endpoint=URL&region=R&prefix=P')
  .option('--chain <spec>', 'local (the registry kept in the store) or subtensor:wss://node?netuid=N', 'local')
  .option('--validator <ss58>', 'the validator hotkey (default: the only one in the store)')
  .option('--window <n>', 'audit one window')
  .option('--from <n>', 'first window')
  .option('--to <n>', 'last window')
  .option('--model <dir>', 'the base model the checkpoints descend from', resolve(ROOT, 'models/tiny-arith'))
  .option('--json', 'one JSON object instead of lines')
  .option('--pi-old-tolerance <x>', "re-derived pi_old vs stored: exact (default, the validator's WASM reference), profile (proof.logprobMaxAbs: a validator on another backend) or a number")
  .option('--follower-seed <file>', "run as a follower validator with this 32-byte key seed: publish its signed verdicts into the store and report the acceptance spread against the leader")
  .action(async (opts: AuditCommandOptions) => {
    process.exitCode = await auditCommand(opts);
  });

await program.parseAsync(process.argv);
