/**
 * `runDevnetProcesses`: `reliquary devnet` as separate processes on loopback — one `reliquary validator` child and
 * K `reliquary miner` children, started from the same CLI (`cli`: this Node and dist/reliquary.mjs), then the devnet
 * report (report.ts) built from their JSON reports.
 *
 *   validator  --data <data> --port P --windows W --miners K --held-out --linger --report <run>/validator.json
 *              (P: a free loopback port the parent picks; the first window opens once the K miners registered)
 *   miner-i    --validator http://127.0.0.1:P (started at the same time: each waits for the validator to answer) --config <data>/miners/miner-i/miner.json --data <data>/miners/miner-i --name miner-i
 *              --report <run>/miner-i.json   (miner.json: `{ "selector": "frontier" }` for miner-1 when K ≥ 2, else
 *              uniform; keys kept in its directory, so a rerun resumes with the same hotkeys)
 *
 * When K ≥ 3 the last two miners share one coldkey (one operator: the one-claim-per-(operator, prompt) rule is
 * exercised): the parent writes `miner-coldkey.seed` of the last miner as a copy of the one before it.
 *
 * After the validator says `N windows done` the miners are stopped (SIGTERM: a last verdict poll, then their
 * report), then the validator (SIGTERM ends its `--linger`: held-out "after" eval, chain weights, report). Every
 * child line goes to `log` (the CLI forwards them to stderr as live progress). A child that exits early or fails is
 * a `DevnetChildError` naming it with its last line; on any failure, SIGINT or exit every child is killed.
 *
 * @example
 *   const report = await runDevnetProcesses({ cli: [process.execPath, 'dist/reliquary.mjs'], windows: 3, miners: 3,
 *     dataDir: './data', modelDir: 'models/tiny-arith' });
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import type { WindowStats } from '../../../core/miner/stats.ts';
import type { ValidatorRunReport } from '../nodes/validator-command.ts';
import type { SelectorKind } from './miner-host.ts';
import { buildReport, type DevnetReport } from './report.ts';

export interface DevnetProcessOptions {
  /** How to start `reliquary`: the executable and its leading arguments (e.g. `[node, 'dist/reliquary.mjs']`). */
  readonly cli: readonly string[];
  readonly windows: number;
  readonly miners: number;
  readonly dataDir: string;
  readonly modelDir: string;
  /** Start from an empty data directory (default: resume what is there). */
  readonly fresh?: boolean;
  /** Groups per miner per window (default: the hotkey quota). */
  readonly groupsPerWindow?: number;
  /** Collection seconds of a window (default: the profile's). */
  readonly collectionSeconds?: number;
  /** The validator's object store (`--store`), passed through. */
  readonly store?: string;
  /** Every line the children print (live progress). */
  readonly log?: (line: string) => void;
  /** Seconds to wait for the validator to serve (default 120) and for a stopped child to exit (default 120). */
  readonly startTimeoutSeconds?: number;
  readonly stopTimeoutSeconds?: number;
}

/** A child that failed or exited early: `message` is one line naming it and its last words. */
export class DevnetChildError extends Error {
  override readonly name = 'DevnetChildError';
}

interface MinerRunReport {
  readonly name: string;
  readonly hotkey: string;
  readonly selector: SelectorKind;
  readonly windows: readonly WindowStats[];
  readonly reloads: readonly number[];
}

/** One child: its lines (to `log` and a short tail), its exit, and waiting for a line. */
class Child {
  readonly exited: Promise<number>;
  code: number | null = null;
  private readonly tail: string[] = [];
  private readonly waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];

  constructor(readonly name: string, cli: readonly string[], args: readonly string[], log: (line: string) => void) {
    const proc: ChildProcess = spawn(cli[0]!, [...cli.slice(1), ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    this.proc = proc;
    createInterface({ input: proc.stderr! }).on('line', (line) => {
      this.tail.push(line);
      if (this.tail.length > 8) this.tail.shift();
      log(line);
      for (const w of [...this.waiters]) {
        const m = w.re.exec(line);
        if (m) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
    this.exited = new Promise((res) => {
      proc.on('error', (e) => {
        this.tail.push(`cannot start ${cli[0]}: ${e.message}`);
        res((this.code = 127));
      });
      proc.on('exit', (code, signal) => res((this.code = code ?? (signal ? 128 : 1))));
    });
  }

  private readonly proc: ChildProcess;

  get alive(): boolean {
    return this.code === null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** The last line it printed that says something (its error, usually). */
  lastWords(): string {
    const words = [...this.tail].reverse().find((l) => /reliquary \w+:|error|Error/.test(l)) ?? this.tail[this.tail.length - 1];
    return words ? `: ${words.trim()}` : ' (no output)';
  }

  /** Resolves with the first line matching `re` from now on. */
  line(re: RegExp): Promise<RegExpExecArray> {
    return new Promise((resolve) => this.waiters.push({ re, resolve }));
  }

  signal(sig: NodeJS.Signals): void {
    if (this.alive) this.proc.kill(sig);
  }
}

/** Stopped by SIGINT/SIGTERM: the children are killed. */
export class DevnetInterrupted extends Error {
  override readonly name = 'DevnetInterrupted';
}

/** A rejection that may never be awaited again once a race is decided (marked handled, so it cannot crash the host). */
function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

/** Rejects when any child in `children` exits first (a crash, or an exit nobody asked for). */
function anyExit(children: readonly Child[]): Promise<never> {
  return quiet(Promise.race(children.map((c) => c.exited.then((code) => {
    throw new DevnetChildError(`${c.name} exited with code ${code}${c.lastWords()}`);
  }))));
}

const timeout = (s: number, what: string): Promise<never> =>
  quiet(new Promise((_, rej) => setTimeout(() => rej(new DevnetChildError(`${what} (waited ${s} s)`)), s * 1000).unref()));

/** A loopback port nobody listens on now (the validator takes it a moment later; a clash is a validator crash line). */
function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => ok(port));
    });
  });
}

/** A 32-byte key seed file, readable by the owner only. */
async function writeSeed(file: string, seed: Uint8Array): Promise<void> {
  await writeFile(file, seed, { mode: 0o600 });
  await chmod(file, 0o600);
}

/** The miners' directories and configs: selectors, and one shared operator for the last two when K ≥ 3. */
async function prepareMiners(dataDir: string, k: number): Promise<{ name: string; dir: string; config: string; selector: SelectorKind }[]> {
  const out: { name: string; dir: string; config: string; selector: SelectorKind }[] = [];
  for (let i = 0; i < k; i++) {
    const name = `miner-${i + 1}`;
    const dir = join(dataDir, 'miners', name);
    await mkdir(dir, { recursive: true });
    const selector: SelectorKind = k >= 2 && i === 0 ? 'frontier' : 'uniform';
    const config = join(dir, 'miner.json');
    await writeFile(config, `${JSON.stringify({ selector }, null, 2)}\n`);
    const coldkey = join(dir, 'miner-coldkey.seed');
    if (k >= 3 && i === k - 1) await writeSeed(coldkey, new Uint8Array(await readFile(join(out[i - 1]!.dir, 'miner-coldkey.seed'))));
    else {
      const have = await readFile(coldkey).catch(() => null);
      if (have?.length !== 32) await writeSeed(coldkey, crypto.getRandomValues(new Uint8Array(32)));
    }
    out.push({ name, dir, config, selector });
  }
  return out;
}

export async function runDevnetProcesses(o: DevnetProcessOptions): Promise<DevnetReport> {
  const log = o.log ?? (() => {});
  const dataDir = resolve(o.dataDir);
  if (o.fresh) await rm(dataDir, { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true });
  const run = await mkdtemp(join(tmpdir(), 'reliquary-devnet-'));
  const started = Date.now();
  const children: Child[] = [];
  const killAll = (): void => {
    for (const c of children) c.signal('SIGKILL');
  };
  let interrupt!: (e: Error) => void;
  const interrupted = quiet(new Promise<never>((_, rej) => (interrupt = rej)));
  const onSignal = (sig: NodeJS.Signals): void => interrupt(new DevnetInterrupted(`stopped by ${sig}`));
  const race = <T>(...ps: Promise<T>[]): Promise<T> => Promise.race([...ps, interrupted]);
  process.on('exit', killAll);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const minerDirs = await prepareMiners(dataDir, o.miners);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const validator = new Child('validator', o.cli, [
      'validator', '--data', dataDir, '--port', String(port), '--windows', String(o.windows), '--miners', String(o.miners), '--model', resolve(o.modelDir),
      '--held-out', '--linger', '--report', join(run, 'validator.json'),
      ...(o.collectionSeconds !== undefined ? ['--collection-seconds', String(o.collectionSeconds)] : []),
      ...(o.store !== undefined ? ['--store', o.store] : []),
    ], log);
    children.push(validator);
    const done = validator.line(/^validator: \d+ windows done/);
    const serving = validator.line(/ serving http:\/\/127\.0\.0\.1:\d+/);
    const miners = minerDirs.map((m) => new Child(m.name, o.cli, [
      'miner', '--validator', url, '--config', m.config, '--data', m.dir, '--name', m.name, '--report', join(run, `${m.name}.json`),
      ...(o.groupsPerWindow !== undefined ? ['--groups', String(o.groupsPerWindow)] : []),
    ], log));
    children.push(...miners);
    await race(serving, anyExit(children), timeout(o.startTimeoutSeconds ?? 120, 'the validator did not start serving'));
    await race(done, anyExit(children));

    // The miners first (their last verdict poll needs the validator), then the validator (eval, weights, report).
    const stopWait = o.stopTimeoutSeconds ?? 120;
    for (const m of miners) m.signal('SIGTERM');
    const codes = await race(Promise.all(miners.map((m) => m.exited)), anyExit([validator]), timeout(stopWait, 'the miners did not stop'));
    const failed = miners.find((_, i) => codes[i] !== 0);
    if (failed) throw new DevnetChildError(`${failed.name} exited with code ${failed.code}${failed.lastWords()}`);
    validator.signal('SIGTERM');
    const vcode = await race(validator.exited, timeout(stopWait, 'the validator did not finish its report'));
    const vreport = await readFile(join(run, 'validator.json'), 'utf8').then((t) => JSON.parse(t) as ValidatorRunReport, () => null);
    if (!vreport) throw new DevnetChildError(`validator exited with code ${vcode} and wrote no report${validator.lastWords()}`);
    if (!vreport.heldOut) throw new DevnetChildError('validator report has no held-out eval');
    const mreports: MinerRunReport[] = [];
    for (const m of minerDirs) mreports.push(JSON.parse(await readFile(join(run, `${m.name}.json`), 'utf8')) as MinerRunReport);
    return buildReport({
      profile: { id: vreport.profile },
      validator: vreport.validator,
      recoveredTombstones: vreport.recoveredTombstones,
      windows: vreport.windows,
      miners: mreports.map((m) => ({ name: m.name, hotkey: m.hotkey, selector: m.selector, stats: m.windows, reloads: m.reloads })),
      heldOut: vreport.heldOut,
      chainWeights: vreport.chainWeights,
      seconds: (Date.now() - started) / 1000,
    });
  } finally {
    // Whatever happened: nothing of this run keeps running.
    for (const c of children) c.signal('SIGTERM');
    await Promise.race([Promise.all(children.map((c) => c.exited)), new Promise((r) => setTimeout(r, 5000).unref())]);
    killAll();
    process.off('exit', killAll);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await rm(run, { recursive: true, force: true });
  }
}
