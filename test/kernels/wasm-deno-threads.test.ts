/**
 * The threaded wasm backend on Deno (issue 17: workers in Node and Deno): the Deno miner builds its backend with
 * kernels/wasm/node.ts through Deno's node: layer, so its helper threads are worker_threads on Deno. A fixture run
 * with `npx deno run -A` (the binary from npm, as test/nodes/three-roles.test.ts runs the Deno miner) checks that
 * 2 threads really start and that a Qwen3 forward split over every op equals one thread bit for bit.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('wasm threads on Deno', () => {
  it('2 threads start under Deno and a split forward equals one thread bit for bit', () => {
    execFileSync(process.execPath, ['kernels/wasm/build.mjs'], { stdio: 'ignore' });
    const out = execFileSync('npx', ['deno', 'run', '-A', 'test/kernels/fixtures/deno-threads.ts'], { encoding: 'utf8', timeout: 120_000 });
    const last = out.trim().split('\n').pop()!;
    expect(JSON.parse(last)).toEqual({ threads: 2, same: true });
  }, 150_000);
});
