/**
 * The Deno miner: the same core, wasm kernels and plugins as `reliquary miner`, started on Deno.
 *
 *   npx deno run -A hosts/deno/miner.ts --validator http://127.0.0.1:8899 [--data DIR] [--windows N] [--groups N] [--env MODULE]…
 *
 * Deno runs the project's TypeScript as is (explicit `.ts` imports; deno.json beside package.json reads npm
 * dependencies from node_modules and enables the decorators tsyringe needs). The miner's keys, environment check,
 * registration, checkpoint and beacon verification and loop are those of hosts/node/nodes/miner-command.ts; file and kernel
 * access go through Deno's `node:` compatibility layer, and the wasm kernels are the same bytes instantiated with
 * `WebAssembly.instantiate` (toolchain.md: one loader for Node, Deno and browsers).
 */
import { minerCommand, type MinerCommandOptions } from '../node/nodes/miner-command.ts';

declare const Deno: { args: string[]; exit(code: number): never };

const USAGE = 'usage: deno run -A hosts/deno/miner.ts --validator URL [--config FILE] [--env MODULE]… [--data DIR] [--windows N] [--groups N] [--name NAME] [--report FILE] [--beacon-max-age SECONDS|off] [--quiet]';

/** `--flag value` pairs (and `--quiet`) into the options of `reliquary miner`; a mistake is one line. */
export function parseArgs(args: readonly string[]): MinerCommandOptions | string {
  const o: MinerCommandOptions = { env: [] };
  const valued = new Set(['--validator', '--config', '--env', '--data', '--windows', '--groups', '--name', '--report', '--beacon-max-age']);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--quiet') {
      o.quiet = true;
      continue;
    }
    if (a === '--help' || a === '-h') return USAGE;
    if (!valued.has(a)) return `unknown option ${a}; ${USAGE}`;
    const v = args[++i];
    if (v === undefined) return `${a} needs a value; ${USAGE}`;
    const key = (a === '--beacon-max-age' ? 'beaconMaxAge' : a.slice(2)) as keyof MinerCommandOptions;
    if (key === 'env') o.env!.push(v);
    else (o as Record<string, unknown>)[key] = v;
  }
  return o;
}

if ((import.meta as ImportMeta & { main?: boolean }).main) {
  const o = parseArgs(Deno.args);
  if (typeof o === 'string') {
    console.error(o);
    Deno.exit(o === USAGE ? 0 : 2);
  }
  Deno.exit(await minerCommand(o as MinerCommandOptions));
}
