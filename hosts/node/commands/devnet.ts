/**
 * `reliquary devnet [--windows N] [--miners N] [--data DIR] [--fresh] [--json] [--report FILE] [--store URL]`: the
 * local devnet (hosts/node/devnet/processes.ts) — a `reliquary validator` process and N competing `reliquary miner`
 * processes on 127.0.0.1, on the embedded tiny model, for N windows; live progress on stderr (the children's lines),
 * the report on stdout (text, or JSON with `--json`), and optionally the JSON report written to a file. `--data`
 * defaults to `./data`, resolved against the current working directory (the repository root under `npm start`;
 * gitignored there): the validator's state there, each miner's keys under `miners/`; a rerun resumes it. `--store`
 * is passed to the validator. (`runDevnet` of devnet.ts is the same market in one process, for tests.)
 */
import { writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DevnetChildError, DevnetInterrupted, runDevnetProcesses } from '../devnet/processes.ts';
import { formatReport } from '../devnet/report.ts';
import { ConfigError } from '../nodes/config.ts';
import { storeEntry } from '../nodes/store-spec.ts';
import { intFlag } from '../nodes/validator-command.ts';

/** A mistake in the command line: printed as one line, exit code 2. */
class UsageError extends Error {}

/** The default `--data`: relative to the current working directory. */
export const DEVNET_DATA_DEFAULT = './data';

export interface DevnetCommandOptions {
  windows?: string | number | undefined;
  miners?: string | number | undefined;
  data?: string | undefined;
  model?: string | undefined;
  fresh?: boolean | undefined;
  json?: boolean | undefined;
  report?: string | undefined;
  groups?: string | number | undefined;
  quiet?: boolean | undefined;
  store?: string | undefined;
}

/** How to start `reliquary` again for the children: this Node and this CLI bundle (dist/reliquary.mjs). */
function reliquaryCli(root: string): string[] {
  const self = process.argv[1];
  const script = self && /\.(m?js|cjs)$/.test(self) && existsSync(self) ? self : resolve(root, 'dist/reliquary.mjs');
  if (!existsSync(script)) throw new UsageError(`no CLI bundle at ${script}: build it first (npm run build)`);
  return [process.execPath, script];
}

const int = (v: string | number | undefined, dflt: number, flag: string, min: number, max: number): number =>
  intFlag(v === undefined ? undefined : String(v), dflt, flag, min, max)!;

/** Runs the devnet; resolves to the exit code (0 when at least one window sealed). */
export async function devnetCommand(opts: DevnetCommandOptions, root: string): Promise<number> {
  const err = (t: string) => void process.stderr.write(`${t}\n`);
  try {
    const windows = int(opts.windows, 3, '--windows', 1, 1000);
    const miners = int(opts.miners, 3, '--miners', 1, 16);
    const groups = opts.groups === undefined ? undefined : int(opts.groups, 8, '--groups', 1, 1000);
    const modelDir = resolve(opts.model ?? resolve(root, 'models/tiny-arith'));
    if (!existsSync(join(modelDir, 'config.json'))) throw new UsageError(`--model ${opts.model ?? modelDir}: no checkpoint there (no config.json); give a checkpoint directory such as models/tiny-arith`);
    if (opts.store !== undefined) storeEntry(opts.store); // a mistake in the spec is said here, before any child starts
    const report = await runDevnetProcesses({
      cli: reliquaryCli(root),
      windows, miners,
      dataDir: resolve(process.cwd(), opts.data ?? DEVNET_DATA_DEFAULT),
      modelDir,
      fresh: opts.fresh ?? false,
      ...(groups !== undefined && { groupsPerWindow: groups }),
      ...(opts.store !== undefined && { store: opts.store }),
      log: opts.quiet ? () => {} : err,
    });
    if (opts.report) await writeFile(opts.report, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    return report.totals.sealed > 0 ? 0 : 1;
  } catch (e) {
    // One actionable line (a usage mistake, a missing model); RELIQUARY_DEBUG=1 adds the stack.
    err(`reliquary devnet: ${e instanceof Error ? e.message : String(e)}`);
    if (process.env['RELIQUARY_DEBUG'] && e instanceof Error && !(e instanceof DevnetChildError) && e.stack) err(e.stack);
    if (e instanceof DevnetInterrupted) return 130;
    return e instanceof UsageError || e instanceof ConfigError ? 2 : 1;
  }
}
