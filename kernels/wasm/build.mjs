// Builds the AssemblyScript kernels (kernels/wasm/assembly/*.ts) twice:
//   kernels/wasm/build/kernels.wasm          its own (unshared) memory: one thread, runs on any page;
//   kernels/wasm/build/kernels-threads.wasm  imports a shared env.memory (wasm threads): one instance per thread over
//                                            the same memory (needs SharedArrayBuffer, i.e. cross-origin isolation in
//                                            a browser).
// Skips a build when its output is newer than every source (so `npm test` can run it first at no cost).
// Usage: node kernels/wasm/build.mjs [--force]
import asc from 'assemblyscript/asc';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const srcDir = join(here, 'assembly');
const sources = readdirSync(srcDir).filter((f) => f.endsWith('.ts')).map((f) => join(srcDir, f));
const newest = Math.max(statSync(fileURLToPath(import.meta.url)).mtimeMs, ...sources.map((f) => statSync(f).mtimeMs));
const common = [join(srcDir, 'index.ts'), '-O3', '--runtime', 'stub', '--noAssert'];

const outputs = [
  { file: join(here, 'build', 'kernels.wasm'), flags: ['--enable', 'simd'] },
  {
    file: join(here, 'build', 'kernels-threads.wasm'),
    // 4 GiB maximum (wasm32); the host creates the shared memory with these limits (kernels/wasm/threads.ts).
    flags: ['--enable', 'simd,threads', '--importMemory', '--sharedMemory', '--initialMemory', '16', '--maximumMemory', '65536'],
  },
];

for (const { file, flags } of outputs) {
  let upToDate = false;
  try {
    upToDate = statSync(file).mtimeMs > newest;
  } catch {}
  if (upToDate && !process.argv.includes('--force')) {
    console.log(`wasm kernels up to date: ${resolve(file)}`);
    continue;
  }
  mkdirSync(dirname(file), { recursive: true });
  const { error, stderr } = await asc.main([...common, ...flags, '--outFile', file]);
  if (error) {
    console.error(stderr.toString());
    console.error(`wasm kernels: build failed: ${error.message}`);
    process.exit(1);
  }
  console.log(`wasm kernels built: ${resolve(file)} (${statSync(file).size} bytes)`);
}
