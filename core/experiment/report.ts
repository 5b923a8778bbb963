/**
 * The experiment report (issue 13): report.md (the table and how to read it), report.json (everything, per-problem
 * scores included) and the Vega-Lite specs of the two plots — held-out pass@1 against steps and against generated
 * rollouts, one line per arm with its 95 % band. Pure: the host renders the specs to SVG and writes the files.
 *
 * @example
 *   const md = renderMarkdown(result);
 *   const spec = curveSpec(result, 'rollouts'); // → vega-lite compile → vega View → toSVG (host)
 */
import type { ExperimentResult } from './experiment.ts';

const f3 = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '—');
const pp = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}` : '—');
const ci = (i: { mean: number; lo: number; hi: number }, fmt = f3): string => `${fmt(i.mean)} [${fmt(i.lo)}, ${fmt(i.hi)}]`;

/** The report's main table, one row per arm. */
export function reportTable(r: ExperimentResult): string {
  const s = r.summary;
  const k = r.config.evalK;
  const rows = s.arms.map((a) =>
    `| ${a.arm} | ${ci(a.finalPassAt1)} | ${f3(a.finalPassAtK)} | ${ci(a.gain, pp)} | ${Math.round(a.rollouts)} | ${Math.round(a.tokens)} | ${f3(a.inZoneHitRate)} | ${f3(a.truncation)} | ` +
    `${a.stepsToUniformFinal ?? '—'} | ${a.rolloutsToUniformFinal === null ? '—' : Math.round(a.rolloutsToUniformFinal)} | ${a.wallSeconds.toFixed(0)} |`);
  return [
    `| arm | final pass@1 [95 % CI] | pass@${k} | gain over step 0, pp [95 % CI] | rollouts | tokens | in-zone hit rate | truncation | steps to uniform's final | rollouts to it | wall s |`,
    '|---|---|---|---|---|---|---|---|---|---|---|',
    `| initial | ${f3(s.initial.passAt1)} | ${f3(s.initial.passAtK)} | | 0 | 0 | | | | | |`,
    ...rows,
  ].join('\n');
}

/** The paired differences table. */
export function differencesTable(r: ExperimentResult): string {
  return [
    '| difference | final pass@1, pp [95 % paired-bootstrap CI] | interval excludes 0 |',
    '|---|---|---|',
    ...r.summary.differences.map((d) => `| ${d.a} − ${d.b} | ${ci(d.diff, pp)} | ${d.diff.lo > 0 || d.diff.hi < 0 ? 'yes' : 'no'} |`),
  ].join('\n');
}

/** Generated rollouts per trained group of one arm, summed over its seeds. */
function rolloutsPerTrainedGroup(r: ExperimentResult, arm: string): number {
  const runs = r.runs.filter((x) => x.arm === arm);
  const rollouts = runs.reduce((a, run) => a + (run.steps[run.steps.length - 1]?.rollouts ?? 0), 0);
  const trained = runs.reduce((a, run) => a + run.steps.reduce((b, st) => b + st.trainedGroups, 0), 0);
  return trained > 0 ? rollouts / trained : NaN;
}

/**
 * The seeds' two targets, as measured: (1) the market reaches the uniform arm's final pass@1 in ≤ ½ the uniform arm's
 * steps to it; (2) the market generates ≥ 2× fewer rollouts than the filter per trained (in-zone) group.
 */
export function targetsTable(r: ExperimentResult): string {
  const arm = (n: string) => r.summary.arms.find((a) => a.arm === n);
  const u = arm('uniform'), m = arm('market'), f = arm('filter');
  const rows: string[] = [];
  if (u && m) {
    const us = u.stepsToUniformFinal, ms = m.stepsToUniformFinal;
    const ratio = us !== null && ms !== null && us > 0 ? ms / us : NaN;
    rows.push(`| market steps to the uniform arm's final pass@1 ÷ uniform's | ≤ 0.50 | ${ms ?? 'not reached'} ÷ ${us ?? '—'} = ${f3(ratio)} | ${ratio <= 0.5 ? 'met' : 'not met'} |`);
  }
  if (f && m) {
    const fr = rolloutsPerTrainedGroup(r, 'filter'), mr = rolloutsPerTrainedGroup(r, 'market');
    const ratio = fr / mr;
    rows.push(`| filter ÷ market generated rollouts per trained in-zone group | ≥ 2.00 | ${fr.toFixed(1)} ÷ ${mr.toFixed(1)} = ${f3(ratio)} | ${ratio >= 2 ? 'met' : 'not met'} |`);
  }
  if (rows.length === 0) return '';
  return ['| the seeds\' target | wanted | measured | |', '|---|---|---|---|', ...rows].join('\n');
}

/** report.md. */
export function renderMarkdown(r: ExperimentResult): string {
  const c = r.config;
  const targets = targetsTable(r);
  const p = r.profile;
  const perStep = r.runs.map((run) => {
    const lines = run.steps.map((st) => {
      const e = run.evals.find((x) => x.step === st.step);
      return `| ${st.step} | ${e ? f3(e.eval.passAt1) : ''} | ${e ? f3(e.eval.passAtK) : ''} | ${st.trainedGroups} | ${st.generatedGroups} | ${f3(st.inZoneHitRate)} | ${f3(st.truncation)} | ${st.rollouts} | ${st.tokens} | ${(st.wallMs / 1000).toFixed(1)} | ${st.note} |`;
    });
    const e0 = run.evals[0]!;
    return [
      `### ${run.arm}, ${run.seed}`, '',
      `| step | pass@1 | pass@${c.evalK} | trained groups | generated groups | in-zone hit rate | truncation | rollouts so far | tokens so far | wall s | window |`,
      '|---|---|---|---|---|---|---|---|---|---|---|',
      `| 0 | ${f3(e0.eval.passAt1)} | ${f3(e0.eval.passAtK)} | | | | | 0 | 0 | 0 | |`,
      ...lines, '',
    ].join('\n');
  });
  return [
    '# Reliquary experiment: uniform vs filter vs market', '',
    `S = ${c.steps} steps, R = ${c.seeds} seeds, B = ${c.groups} groups per step (the market's window size N), M = ${p.rollouts} rollouts per group, ` +
      `K = ${c.miners} miners, lr ${p.learningRate}, completion cap ${p.maxNewTokens} tokens, profile ${p.id} (fill-closed windows). ` +
      `Held-out: ${c.evalProblems} problems × ${c.evalK} forced-seed samples (fixed stream, the same for every arm, seed and step: paired); ` +
      `pass@1 = c/k per problem, pass@${c.evalK} = any correct. Intervals: 95 % two-stage paired bootstrap over (seed, problem), ${c.bootstrap} replicates. ` +
      `Wall ${r.wallSeconds.toFixed(0)} s in all (eval time excluded from the per-arm wall).`, '',
    '## Final held-out pass@1', '', reportTable(r), '', differencesTable(r), '',
    ...(targets ? ['## The seeds\' targets', '', targets, ''] : []),
    'Steps / rollouts to reach the uniform arm\'s final pass@1 are read at the eval points (every ' + `${c.evalEvery} steps), on the mean over seeds.`, '',
    '![pass@1 vs steps](pass-at-1-vs-steps.svg)', '', '![pass@1 vs generated rollouts](pass-at-1-vs-rollouts.svg)', '',
    '## Per step', '', ...perStep,
  ].join('\n');
}

/** report.json: the config, the summary and every run (per-problem scores included). */
export function renderJson(r: ExperimentResult): string {
  return JSON.stringify(r, null, 1);
}

/** The Vega-Lite spec of held-out pass@1 against `x` (steps or generated rollouts), one line and band per arm. */
export function curveSpec(r: ExperimentResult, x: 'steps' | 'rollouts'): Record<string, unknown> {
  const values = r.summary.arms.flatMap((a) => a.curve.map((p) => ({ arm: a.arm, x: x === 'steps' ? p.step : p.rollouts, mean: p.passAt1.mean, lo: p.passAt1.lo, hi: p.passAt1.hi })));
  const xTitle = x === 'steps' ? 'GRPO steps' : 'generated rollouts';
  const enc = { x: { field: 'x', type: 'quantitative', title: xTitle }, color: { field: 'arm', type: 'nominal', title: 'arm' } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `held-out pass@1 vs ${xTitle} (mean of ${r.config.seeds} seeds, 95 % band)`,
    width: 520, height: 320,
    data: { values },
    layer: [
      { mark: { type: 'area', opacity: 0.18 }, encoding: { ...enc, y: { field: 'lo', type: 'quantitative', title: 'held-out pass@1', scale: { zero: false } }, y2: { field: 'hi' } } },
      { mark: { type: 'line', point: true }, encoding: { ...enc, y: { field: 'mean', type: 'quantitative' } } },
    ],
  };
}
