/**
 * `reliquary devnet --env code [--windows N] [--miners N] [--data DIR] [--groups N] [--collection S] [--seed N] [--json]`:
 * the code devnet (hosts/node/code-devnet): a validator serving env-code graded by the pyodide sandbox and N miners
 * on a seeded tiny random Qwen3 over the Qwen3 vocabulary (profile DEVNET_CODE), for N windows. Its state lives in
 * `<data>/code-devnet` (emptied at each run). Window lines and verdicts on stderr, the summary on stdout. The model
 * cannot write Python: every reward is 0 and groups are refused out_of_zone; the summary also grades one
 * hand-written correct completion the way the admission worker grades.
 */
import { join, resolve } from 'node:path';
import { runCodeDevnet } from '../code-devnet/code-devnet.ts';
import { formatWindow } from '../devnet/report.ts';

export interface DevnetCodeCommandOptions {
  windows?: string | number | undefined;
  miners?: string | number | undefined;
  data?: string | undefined;
  groups?: string | number | undefined;
  collection?: string | number | undefined;
  seed?: string | number | undefined;
  json?: boolean | undefined;
  quiet?: boolean | undefined;
}

class UsageError extends Error {}

function int(v: string | number | undefined, dflt: number, flag: string, min: number, max: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return n;
}

/** Runs the code devnet; resolves to the exit code (0 when every submission was graded without a fault). */
export async function devnetCodeCommand(opts: DevnetCodeCommandOptions): Promise<number> {
  const err = (t: string) => void process.stderr.write(`${t}\n`);
  try {
    const windows = int(opts.windows, 2, '--windows', 1, 100);
    const miners = int(opts.miners, 1, '--miners', 1, 8);
    const groups = int(opts.groups, 2, '--groups', 1, 8);
    const collection = int(opts.collection, 60, '--collection', 5, 3600);
    const seed = int(opts.seed, 15, '--seed', 0, 2 ** 31 - 1);
    const dataDir = join(resolve(process.cwd(), opts.data ?? './data'), 'code-devnet');
    const names = new Map<string, string>();
    const log = opts.quiet ? () => {} : err;
    const r = await runCodeDevnet({
      windows, miners, dataDir, seed, collectionSeconds: collection, groupsPerWindow: groups,
      log: (line) => {
        const m = /^(miner-\d+) (\S+)$/.exec(line);
        if (m) names.set(m[2]!, m[1]!);
        log(line);
      },
      onWindow: (w, verdicts) => {
        if (opts.quiet) return;
        for (const line of formatWindow(w, names)) err(line);
        for (const v of verdicts) err(`  verdict   ${v.miner} window ${v.window}: ${v.reason}${v.detail ? ` (${v.detail.slice(0, 160)})` : ''}`);
      },
    });
    const submitted = r.miners.reduce((a, m) => a + m.stats.reduce((b, s) => b + s.submitted, 0), 0);
    const accepted = r.miners.reduce((a, m) => a + m.stats.reduce((b, s) => b + s.accepted, 0), 0);
    const summary = {
      profile: r.profile.id, windows: r.windows.map((w) => ({ window: w.window, status: w.status, rejects: w.rejects, winners: w.winners.length })),
      submitted, accepted, grading: r.grading, handWritten: r.handWritten, seconds: r.seconds,
    };
    if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else {
      const g = r.grading;
      process.stdout.write([
        `code devnet (${r.profile.id}): ${r.windows.length} window(s), ${submitted} group(s) submitted, ${accepted} accepted`,
        `grading   ${g.workerGradings} rollout(s) graded by the admission worker (${g.asyncGradings} graded asynchronously first), ${g.withProgram} with a program, ${g.sandboxRuns} sandbox run(s); rewards ${JSON.stringify(g.rewards)}; faults ${JSON.stringify(g.faults)}`,
        ...r.windows.map((w) => `window ${w.window}  ${w.status}  rejects ${JSON.stringify(w.rejects)}  winners ${w.winners.length}`),
        `hand-written correct completion (problem ${r.handWritten.promptIdx}): before grading ${r.handWritten.before.ok ? r.handWritten.before.reward : r.handWritten.before.fault}, after ${r.handWritten.after.ok ? r.handWritten.after.reward : r.handWritten.after.fault} (${r.handWritten.sandboxRuns} sandbox run)`,
        `${r.seconds.toFixed(1)} s`,
        '',
      ].join('\n'));
    }
    return submitted > 0 && Object.keys(r.grading.faults).length === 0 ? 0 : 1;
  } catch (e) {
    err(`reliquary devnet --env code: ${e instanceof Error ? e.message : String(e)}`);
    if (process.env['RELIQUARY_DEBUG'] && e instanceof Error && e.stack) err(e.stack);
    return e instanceof UsageError ? 2 : 1;
  }
}
