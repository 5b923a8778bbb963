/**
 * `reliquary devnet [--windows N] [--miners N] [--data DIR] [--fresh] [--json] [--report FILE]`: the local devnet
 * (hosts/node/devnet/devnet.ts) — a validator and N competing miners on 127.0.0.1, on the embedded tiny model,
 * for N windows; live progress on stderr, the report on stdout (text, or JSON with `--json`), and optionally the
 * JSON report written to a file. `--data` defaults to `./data`, resolved against the current working directory (the
 * repository root under `npm start`; gitignored there); a rerun on the same directory resumes it.
 */
import { writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runDevnet } from '../devnet/devnet.ts';
import { formatReport, formatWindow } from '../devnet/report.ts';

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
}

function int(v: string | number | undefined, dflt: number, flag: string, min: number, max: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return n;
}

/** Runs the devnet; resolves to the exit code (0 when at least one window sealed). */
export async function devnetCommand(opts: DevnetCommandOptions, root: string): Promise<number> {
  const err = (t: string) => void process.stderr.write(`${t}\n`);
  try {
    const windows = int(opts.windows, 3, '--windows', 1, 1000);
    const miners = int(opts.miners, 3, '--miners', 1, 16);
    const groups = opts.groups === undefined ? undefined : int(opts.groups, 8, '--groups', 1, 1000);
    const modelDir = resolve(opts.model ?? resolve(root, 'models/tiny-arith'));
    if (!existsSync(join(modelDir, 'config.json'))) throw new UsageError(`--model ${opts.model ?? modelDir}: no checkpoint there (no config.json); give a checkpoint directory such as models/tiny-arith`);
    const log = opts.quiet ? () => {} : err;
    const names = new Map<string, string>();
    const report = await runDevnet({
      windows, miners,
      dataDir: resolve(process.cwd(), opts.data ?? DEVNET_DATA_DEFAULT),
      modelDir,
      fresh: opts.fresh ?? false,
      progressEverySeconds: opts.quiet ? 0 : 2,
      ...(groups !== undefined && { groupsPerWindow: groups }),
      log: (line) => {
        const m = /^(miner-\d+) (\S+) \(operator/.exec(line);
        if (m) names.set(m[2]!, m[1]!);
        log(line);
      },
      onWindow: (w) => {
        if (!opts.quiet) for (const line of formatWindow(w, names)) err(line);
      },
      onEval: (when, e) => {
        if (!opts.quiet) err(`held-out pass@1 ${when}: ${e.passAt1.toFixed(3)} (${e.correct}/${e.problems}, ${e.seconds.toFixed(1)} s)`);
      },
    });
    if (opts.report) await writeFile(opts.report, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    return report.totals.sealed > 0 ? 0 : 1;
  } catch (e) {
    // One actionable line (a usage mistake, a missing model); RELIQUARY_DEBUG=1 adds the stack.
    err(`reliquary devnet: ${e instanceof Error ? e.message : String(e)}`);
    if (process.env['RELIQUARY_DEBUG'] && e instanceof Error && e.stack) err(e.stack);
    return e instanceof UsageError ? 2 : 1;
  }
}
