/**
 * `codeRewardSync(completion, entry, tests)`: the reward of issue 15 §2 computed synchronously, for the
 * conformance runner's `code_reward` (args `{completion, entry, tests}` → float). The program is
 * `extractProgram(completion, entry)` (none → 0, nothing runs); otherwise it runs in one lazily started
 * `pyodideSandboxSync` interpreter, shared by every call of the process, and the reward is passed / tests.
 */
import { extractProgram } from '../../../plugins/env-code/program.ts';
import { pyodideSandboxSync, type PyodideSandboxSync } from './sync.ts';

let shared: PyodideSandboxSync | null = null;

/** passed / tests of `completion`'s program (0 without a program or without tests). Throws only on an outage. */
export function codeRewardSync(completion: string, entry: string, tests: readonly string[]): number {
  const program = extractProgram(completion, entry);
  if (program === null || tests.length === 0) return 0;
  shared ??= pyodideSandboxSync();
  return shared.runSync({ program, tests }).passed / tests.length;
}
