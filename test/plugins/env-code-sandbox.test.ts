/**
 * The pyodide sandbox (hosts/node/sandbox) under the code environment's grading rules (issue 15 §2) and against
 * hostile programs (§4). Two warm pools are shared by every case (an interpreter takes seconds to load): the
 * production policy (`upstream`: the Python policy on top of the JavaScript wall), and the wall alone
 * (`policy: 'none'`), where programs may import os, js, socket and pyodide's FFI freely, to check that the wall
 * holds by itself. Each hostile case states its expected reward; the pools keep answering afterwards.
 */
import { createServer, type Server } from 'node:net';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passFraction, type CodeJob } from '../../core/interfaces/code-runner.ts';
import { pyodideSandbox } from '../../hosts/node/sandbox/pool.ts';
import { listen } from '../../plugins/transport-http/listen-node.ts';
import { httpServer } from '../../plugins/transport-http/index.ts';
import { fakeService, PROFILE } from './transport-http-fake.ts';
import { envCode } from '../../plugins/env-code/index.ts';
import { sampleCodeDatasetPath } from '../../plugins/env-code/dataset-node.ts';
import { fileReader } from '../../plugins/env-math/dataset-node.ts';

process.env.RELIQUARY_TEST_SECRET = 'host-secret-value';
const sandbox = pyodideSandbox({ workers: 2, testTimeoutMs: 1500, memoryMb: 256 });
const wallOnly = pyodideSandbox({ workers: 1, policy: 'none', testTimeoutMs: 1500 });
afterAll(async () => {
  await Promise.all([sandbox.close(), wallOnly.close()]);
});
beforeAll(async () => {
  await Promise.all([sandbox.ready(), wallOnly.ready()]);
}, 120_000);

const ADD = 'def add(a, b):\n    return a + b\n';
const ADD_TESTS = ['assert add(1, 2) == 3', 'assert add(-1, 1) == 0', 'assert add(10, 5) == 15', 'assert add(0, 0) == 0'];
const run = (program: string, tests: readonly string[] = ADD_TESTS, extra: Partial<CodeJob> = {}) => sandbox.run({ program, tests, ...extra });
const reward = async (program: string, tests: readonly string[] = ADD_TESTS, extra: Partial<CodeJob> = {}) => passFraction(await run(program, tests, extra));

describe('grading rules (§2)', () => {
  it('a correct program passes every test; a partly wrong one scores passed / tests', async () => {
    const r = await run(ADD);
    expect(r.outcomes).toEqual(['pass', 'pass', 'pass', 'pass']);
    expect(await reward('def add(a, b):\n    return a + b if a > 0 else 7\n')).toBe(0.5);
  });

  it('a program that raises — SyntaxError, an exception, SystemExit — fails every test', async () => {
    for (const program of ['def add(a, b):\n    return a +\n', `${ADD}raise ValueError("boom")\n`, `${ADD}raise SystemExit(0)\n`]) {
      const r = await run(program);
      expect(r.outcomes).toEqual(['program', 'program', 'program', 'program']);
      expect(r.programError).toMatch(/SyntaxError|ValueError|SystemExit/);
    }
  });

  it('a test that raises something other than AssertionError fails alone', async () => {
    const r = await run('def inv(x):\n    return 1 / x\n', ['assert inv(1) == 1.0', 'assert inv(0) == 0', 'assert inv(4) == 0.25']);
    expect(r.outcomes).toEqual(['pass', 'error', 'pass']);
    expect(r.details[1]).toMatch(/ZeroDivisionError/);
  });

  it('a test that hangs fails alone, the rest run in a fresh interpreter with the program re-executed', async () => {
    const before = sandbox.stats().replaced;
    const r = await run('def f(x):\n    while x == 0:\n        pass\n    return x\n', ['assert f(1) == 1', 'assert f(0) == 0', 'assert f(2) == 2'], { testTimeoutMs: 800 });
    expect(r.outcomes).toEqual(['pass', 'timeout', 'pass']);
    expect(sandbox.stats().replaced).toBeGreaterThan(before);
  });

  it('the job budget bounds the whole completion: tests not reached fail with `budget`', async () => {
    const r = await run('def f(x):\n    while x > 1:\n        pass\n    return x\n', ['assert f(1) == 1', 'assert f(2) == 2', 'assert f(3) == 3'], { testTimeoutMs: 600, budgetMs: 600 });
    expect(r.outcomes).toEqual(['pass', 'budget', 'budget']);
  });

  it('tests are isolated: module state and namespace changes of one test never reach the next', async () => {
    const counter = 'calls = []\ndef f(x):\n    calls.append(x)\n    return len(calls)\n';
    expect(await reward(counter, ['assert f(0) == 1', 'assert f(5) == 1', 'assert f(9) == 1'])).toBe(1);
    const rebinds = 'import math\nmath.floor = lambda x: 42\ndef g(x):\n    return int(x)\n';
    expect(await reward(rebinds, ['assert g(2.5) == 2', 'import math\nassert math.floor(2.5) == 2'])).toBe(1);
  });

  it('statements other than a single comparison pass iff they complete', async () => {
    expect(await reward('def sq(x):\n    return x * x\n', ['r = sq(3)\nassert r == 9', 'assert sq(2) != 5', 'assert sq(-2) in (4, 5)', 'assert sq(3)'])).toBe(1);
    expect(await reward('def sq(x):\n    return x * x\n', ['r = sq(3)\nassert r == 10'])).toBe(0);
  });
});

describe('hostile programs under the production policy (§4): contained, scored, and the pool keeps serving', () => {
  const cases: [string, string, readonly string[], number][] = [
    ['infinite loop at top level', 'while True:\n    pass\ndef add(a, b):\n    return a + b\n', ADD_TESTS, 0],
    ['deep recursion', 'def add(a, b):\n    return add(a, b) + 1\n', ADD_TESTS, 0],
    ['memory bomb', 'def add(a, b):\n    x = bytearray(2 ** 31)\n    return a + b\n', ADD_TESTS, 0],
    ['list bomb', 'def add(a, b):\n    x = []\n    while True:\n        x.append(bytearray(10 ** 7))\n', ADD_TESTS, 0],
    ['output flood', 'def add(a, b):\n    while True:\n        print("x" * 10000)\n', ADD_TESTS, 0],
    ['sys.exit', 'import sys\nsys.exit(0)\n' + ADD, ADD_TESTS, 0],
    ['os._exit', 'import os\nos._exit(0)\n' + ADD, ADD_TESTS, 0],
    ['import js', 'import js\n' + ADD, ADD_TESTS, 0],
    ['pyodide FFI', 'from pyodide.ffi import to_js\n' + ADD, ADD_TESTS, 0],
    ['subclass gadget', 'def add(a, b):\n    return ().__class__.__base__.__subclasses__()\n', ADD_TESTS, 0],
    ['getattr gadget', 'def add(a, b):\n    o = getattr((), "__class__")\n    return a + b\n', ADD_TESTS, 0],
    ['annotation eval gadget', 'import typing\ndef h(x: "().__class__"):\n    pass\ndef add(a, b):\n    typing.get_type_hints(h)\n    return a + b\n', ADD_TESTS, 0],
    ['module escape via typing.sys', 'import typing\ndef add(a, b):\n    return typing.sys.modules["os"].system("true")\n', ADD_TESTS, 0],
    ['open /etc/passwd', 'def add(a, b):\n    return len(open("/etc/passwd").read())\n', ADD_TESTS, 0],
    ['os.system', 'import os\nos.system("touch /tmp/pwned")\n' + ADD, ADD_TESTS, 0],
    ['subprocess', 'import subprocess\nsubprocess.run(["ls"])\n' + ADD, ADD_TESTS, 0],
    ['socket', 'import socket\n' + ADD, ADD_TESTS, 0],
    ['always-equal object', 'class Yes:\n    def __eq__(self, o):\n        return True\n    def __bool__(self):\n        return True\ndef add(a, b):\n    return Yes()\n', [...ADD_TESTS, 'assert add(1, 1)'], 0],
    ['int subclass with a lying __eq__ (not plain data)', 'class I(int):\n    def __eq__(self, o):\n        return True\ndef add(a, b):\n    return I(a + b)\n', ADD_TESTS, 0],
  ];
  it.each(cases)('%s scores its expected reward', async (_name, program, tests, expected) => {
    const r = await run(program, tests.length === ADD_TESTS.length ? tests.slice(0, 2) : tests, { testTimeoutMs: 1000, budgetMs: 3000 });
    expect(passFraction(r)).toBe(expected);
  });

  it('a program cannot patch shared classes for a later completion', async () => {
    const patch = 'import collections\ncollections.Counter.most_common = lambda self, n=None: [("rigged", 99)]\ndef f(xs):\n    return collections.Counter(xs).most_common(1)\n';
    expect(await reward(patch, ['assert f([1, 1, 2]) == [("rigged", 99)]'])).toBe(1); // its own run sees its patch…
    const honest = 'import collections\ndef f(xs):\n    return collections.Counter(xs).most_common(1)\n';
    for (let i = 0; i < 3; i++) expect(await reward(honest, ['assert f([1, 1, 2]) == [(1, 2)]'])).toBe(1); // …nobody else does
  });

  it('the pool still grades honestly after all of that', async () => {
    expect(await reward(ADD)).toBe(1);
    expect(existsSync('/tmp/pwned')).toBe(false);
  });
});

describe('the JavaScript wall alone (policy none): escapes fail even with the Python policy off', () => {
  const marker = join(mkdtempSync(join(tmpdir(), 'sandbox-')), 'pwned');
  let tcp: Server;
  let port = 0;
  let connections = 0;
  beforeAll(async () => {
    tcp = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    port = (tcp.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => tcp.close(() => r())));

  const escape = async (program: string) => (await wallOnly.run({ program, tests: ['assert 1 == 1'] })).programError;

  it('`import js` holds nothing: no process, no env, no constructor', async () => {
    expect(await escape('import js\njs.process.env')).toMatch(/AttributeError/);
    expect(await escape('import js\njs.constructor')).toMatch(/AttributeError/);
    expect(await escape("import js\nfor n in ('process', 'require', 'fetch', 'globalThis', 'eval', 'Function', 'Object'):\n    assert not hasattr(js, n), n")).toBeNull();
  });

  it("pyodide's FFI reaches no Function constructor, eval or host mount", async () => {
    expect(await escape("import pyodide_js\npyodide_js.constructor.constructor('return process')()")).not.toBeNull();
    expect(await escape("from pyodide.ffi import to_js\nto_js([1]).constructor.constructor('return process')()")).not.toBeNull();
    expect(await escape("from pyodide.code import run_js\nrun_js('process.env')")).not.toBeNull();
    expect(await escape("import pyodide_js\npyodide_js.mountNodeFS('/host', '/')")).toMatch(/not available/);
    expect(await escape("import pyodide_js\npyodide_js.loadPackage('micropip')")).toMatch(/not available/);
  });

  it('the host environment is not visible', async () => {
    expect(process.env.RELIQUARY_TEST_SECRET).toBe('host-secret-value');
    expect(await escape("import os\nassert 'RELIQUARY_TEST_SECRET' not in os.environ\nassert 'host-secret-value' not in repr(os.environ)")).toBeNull();
  });

  it('no network: a socket never reaches a listening host port', async () => {
    expect(await escape(`import socket\ns = socket.socket()\ns.settimeout(1)\ns.connect(('127.0.0.1', ${port}))\ns.send(b'x')`)).not.toBeNull();
    await new Promise((r) => setTimeout(r, 200));
    expect(connections).toBe(0);
  });

  it('the host filesystem is not reachable, subprocess fails', async () => {
    expect(await escape("open('/etc/passwd').read()")).toMatch(/FileNotFoundError/);
    expect(await escape("import subprocess\nsubprocess.run(['ls'])")).toMatch(/OSError/);
  });

  it('os.system runs no host command; it, os._exit and a stack overflow kill only their interpreter, which is replaced', async () => {
    const before = wallOnly.stats().replaced;
    expect(await escape(`import os\nos.system('touch ${marker}')`)).not.toBeNull();
    expect(existsSync(marker)).toBe(false);
    expect(await escape('import os\nos._exit(0)')).toMatch(/interpreter died/);
    expect(await escape('import sys\nsys.setrecursionlimit(10 ** 7)\ndef f(n):\n    return f(n + 1)\nf(0)')).not.toBeNull();
    expect(wallOnly.stats().replaced).toBeGreaterThan(before);
    expect(await escape('assert sum(range(10)) == 45')).toBeNull();
  }, 180_000);
});

describe('grading never blocks the event loop', () => {
  it('an HTTP server keeps answering /health while a hanging program is graded', async () => {
    const server = await listen(httpServer(fakeService(), { profile: PROFILE }), { port: 0 });
    try {
      const grading = run('def add(a, b):\n    while True:\n        pass\n', ADD_TESTS.slice(0, 2), { testTimeoutMs: 1000 });
      let answered = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < 800) {
        const res = await fetch(`${server.url}/health`);
        if (res.status === 200) answered++;
        await new Promise((r) => setTimeout(r, 50));
      }
      const r = await grading;
      expect(answered).toBeGreaterThan(3);
      expect(r.passed).toBe(0);
    } finally {
      await server.close();
    }
  });
});

describe('envCode over the sandbox', () => {
  const env = envCode({ source: fileReader(sampleCodeDatasetPath()), runner: sandbox });
  const fenced = (code: string) => '```python\n' + code + '\n```';

  it('every shipped reference solution scores 1; computeReward then answers from memory', async () => {
    const rewards = await Promise.all(Array.from({ length: env.size }, (_, i) => env.computeRewardAsync(env.getProblem(i), fenced(env.row(i).reference!))));
    expect(rewards.map((r, i) => (r === 1 ? 'ok' : `${env.row(i).entry}: ${r}`)).filter((x) => x !== 'ok')).toEqual([]);
    expect(env.computeReward(env.getProblem(5), fenced(env.row(5).reference!))).toBe(1);
  });

  it('rewards lie on the lattice {i/T} of the problem', async () => {
    const p = env.getProblem(0); // add_two, 4 tests
    const rs = await env.gradeAll(p, [fenced('def add_two(a, b):\n    return a + b if a > 5 else 0'), fenced('def add_two(a, b):\n    return 0'), 'prose only']);
    const T = env.rewardCases(p).length;
    for (const r of rs) expect(Number.isInteger(r * T) && r >= 0 && r <= 1).toBe(true);
    expect(rs).toEqual([0.75, 0.5, 0]);
  });
});
