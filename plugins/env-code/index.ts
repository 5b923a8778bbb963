/**
 * The code environment plugin (spec/training.md §3.4, issue 15): problems with an entry point and Python tests,
 * upstream's prompt, the graded program (last fenced block defining the entry point), rewards passed/T through an
 * injected `CodeRunner`, upstream's v4 extractor, a Parquet loader for upstream's layout, and a reveal-parser
 * wrapper that grades ahead of the market's synchronous worker. Re-exports only. Node-only files are not
 * re-exported: `./dataset-node.ts` (the shipped dataset's path) and `./parquet.ts` (imports hyparquet).
 */
export { codeExtract } from './extract.ts';
export { extractProgram, isEntryName } from './program.ts';
export { caseToTest, codePrompt, codeProblem, compactSortedJson, parseCodeRow, pyLiteral, type CodeProblem, type CodeRow } from './problem.ts';
export { CODE_ENV_SPEC, ENV_CODE_DEFAULTS, envCode, type CodeEnvironment, type EnvCodeOptions } from './environment.ts';
export { envCodePlugin } from './plugin.ts';
