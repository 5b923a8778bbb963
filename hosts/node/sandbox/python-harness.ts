/**
 * The Python half of the sandbox: the grading harness and the in-interpreter policy, as source text that the
 * worker runs once per interpreter, before any untrusted code (see ./worker-source.ts for the JavaScript half,
 * which is the containment boundary; this policy is the second layer and what keeps grading honest).
 *
 * Policy (upstream's, spec/training.md §3.4, plus what a shared warm interpreter needs):
 *   - builtins: an allowlist (no eval, exec, compile, open, input, globals, locals, vars, dir, help, breakpoint,
 *     exit, quit); getattr/setattr/delattr/hasattr refuse the attribute names the AST gate refuses;
 *   - imports: level 0 only, from upstream's whitelist (abc, array, bisect, collections, copy, dataclasses,
 *     decimal, enum, functools, heapq, itertools, math, operator, re, statistics, string, typing); the program
 *     gets a fresh copy of each module holding only its public, non-module attributes, so `typing.sys` does not
 *     exist and `math.pi = 3` changes nothing outside this run;
 *   - an AST gate refuses dunder attributes outside a short allowlist (`__class__`, `__globals__`,
 *     `__subclasses__`, `__dict__`, `__code__`, … are the classic ways out) and frame/code/traceback attributes
 *     (`f_*`, `gi_*`, `cr_*`, `ag_*`, `tb_*`, `co_*`), including in `match` class patterns;
 *   - shared state a program could still mutate (attributes of the whitelisted modules' Python classes, the
 *     decimal contexts) is snapshotted at start-up and restored before every run.
 *
 * Judging: `run_test(src)` restores the snapshot, executes the compiled program in a fresh namespace, then the
 * test. An `assert A <op> B` (one comparison) and an `assert X` are judged by the harness, not by the program's
 * objects: both sides must be plain builtin data (None, bool, int, float, complex, str, bytes and lists, tuples,
 * dicts, sets of them), unless the test's own expected side is not plain either; so an object whose `__eq__`
 * always answers True passes nothing. Other statements pass iff they complete without raising.
 *
 * Replies are tuples `(outcome, detail)` with outcome in 'pass' | 'fail' | 'error' | 'program'.
 */
export const PYTHON_HARNESS = String.raw`
import ast as _ast, builtins as _b, sys as _sys, types as _types, operator as _op

_SAFE_MODULES = frozenset('abc array bisect collections copy dataclasses decimal enum functools heapq itertools math operator re statistics string typing'.split())
_SAFE_SUBMODULES = frozenset(['collections.abc'])
_SAFE_DUNDERS = frozenset('''__init__ __new__ __name__ __qualname__ __doc__ __len__ __iter__ __next__ __getitem__
  __setitem__ __delitem__ __contains__ __eq__ __ne__ __lt__ __le__ __gt__ __ge__ __hash__ __repr__ __str__
  __add__ __radd__ __sub__ __rsub__ __mul__ __rmul__ __truediv__ __floordiv__ __mod__ __pow__ __neg__ __pos__
  __abs__ __bool__ __call__ __enter__ __exit__ __post_init__ __slots__ __lshift__ __rshift__ __and__ __or__
  __xor__ __invert__ __iadd__ __isub__ __imul__ __index__ __int__ __float__ __missing__ __reversed__'''.split())
_DENY_PREFIXES = ('f_', 'gi_', 'cr_', 'ag_', 'tb_', 'co_')
_DENY_NAMES = frozenset(['__builtins__', '__loader__', '__spec__', '__import__', '__build_class__'])

class PolicyError(Exception):
    pass

def _bad_attr(name):
    if not isinstance(name, str):
        return True
    if name.startswith('__') and name.endswith('__'):
        return name not in _SAFE_DUNDERS
    return name.startswith(_DENY_PREFIXES)

def _gate(tree):
    for node in _ast.walk(tree):
        if isinstance(node, _ast.Attribute) and _bad_attr(node.attr):
            raise PolicyError('attribute ' + repr(node.attr) + ' is not allowed')
        if isinstance(node, _ast.MatchClass):
            for a in node.kwd_attrs:
                if _bad_attr(a):
                    raise PolicyError('attribute ' + repr(a) + ' is not allowed')
        if isinstance(node, _ast.Name) and node.id in _DENY_NAMES:
            raise PolicyError('name ' + repr(node.id) + ' is not allowed')
        if isinstance(node, _ast.ImportFrom) and node.level:
            raise PolicyError('relative imports are not allowed')

_real_getattr, _real_setattr, _real_delattr, _real_hasattr = getattr, setattr, delattr, hasattr

def _checked(name):
    if _bad_attr(name):
        raise AttributeError('attribute ' + repr(name) + ' is not allowed')
    return name

def _getattr(obj, name, *default):
    return _real_getattr(obj, _checked(name), *default)
def _setattr(obj, name, value):
    return _real_setattr(obj, _checked(name), value)
def _delattr(obj, name):
    return _real_delattr(obj, _checked(name))
def _hasattr(obj, name):
    return _real_hasattr(obj, _checked(name))

def _attrgetter(*names):
    for n in names:
        for part in str(n).split('.'):
            _checked(part)
    return _op.attrgetter(*names)
def _methodcaller(name, *a, **k):
    return _op.methodcaller(_checked(name), *a, **k)

_modules = {}
for _n in sorted(_SAFE_MODULES | _SAFE_SUBMODULES):
    _modules[_n] = __import__(_n, fromlist=['_'])

# Evaluating string annotations or format fields reaches attributes by name: refuse those paths.
import typing as _typing, string as _string, decimal as _decimal
def _no_eval(*a, **k):
    raise PolicyError('evaluating annotations is not allowed')
_typing.get_type_hints = _no_eval
if hasattr(_typing, 'evaluate_forward_ref'):
    _typing.evaluate_forward_ref = _no_eval
for _m in ('evaluate', '_evaluate'):
    if hasattr(_typing.ForwardRef, _m):
        setattr(_typing.ForwardRef, _m, _no_eval)
_orig_get_field = _string.Formatter.get_field
def _get_field(self, field_name, args, kwargs):
    for part in field_name.replace('[', '.').split('.')[1:]:
        _checked(part.rstrip(']'))
    return _orig_get_field(self, field_name, args, kwargs)
_string.Formatter.get_field = _get_field

def _public_copy(name):
    src = _modules[name]
    m = _types.ModuleType(name)
    for k, v in vars(src).items():
        if k.startswith('_') or isinstance(v, _types.ModuleType):
            continue
        m.__dict__[k] = v
    if name == 'operator':
        m.attrgetter, m.methodcaller = _attrgetter, _methodcaller
    if name == 'collections':
        m.abc = _public_copy('collections.abc')
    return m

def _make_import():
    cache = {}
    def _import(name, globals=None, locals=None, fromlist=(), level=0):
        if level != 0:
            raise ImportError('relative imports are not allowed')
        top = name.split('.')[0]
        if top not in _SAFE_MODULES or (name != top and name not in _SAFE_SUBMODULES):
            raise ImportError('import of ' + repr(name) + ' is not allowed (allowed: ' + ', '.join(sorted(_SAFE_MODULES)) + ')')
        if top not in cache:
            cache[top] = _public_copy(top)
        if fromlist or name == top:
            return cache[top] if name == top else cache[top].abc
        return cache[top]
    return _import

_ALLOWED_BUILTINS = '''abs all any ascii bin bool bytearray bytes callable chr classmethod complex dict divmod
  enumerate filter float format frozenset hash hex id int isinstance issubclass iter len list map max min next
  object oct ord pow print property range repr reversed round set slice sorted staticmethod str sum super tuple
  type zip aiter anext memoryview __build_class__ __name__ None Ellipsis NotImplemented True False'''.split()

def _fresh_builtins():
    d = {}
    for k in _ALLOWED_BUILTINS:
        if k in _b.__dict__:
            d[k] = _b.__dict__[k]
    for k, v in _b.__dict__.items():
        if isinstance(v, type) and issubclass(v, BaseException):
            d[k] = v
    d['getattr'], d['setattr'], d['delattr'], d['hasattr'] = _getattr, _setattr, _delattr, _hasattr
    d['__import__'] = _make_import()
    return d

# Snapshot of the shared, mutable state a program can reach: Python classes exposed by the whitelisted modules.
def _class_snapshot():
    seen = {}
    for m in _modules.values():
        for v in vars(m).values():
            if isinstance(v, type):
                for c in v.__mro__:
                    if c not in seen and c.__module__ not in ('builtins',):
                        try:
                            seen[c] = dict(c.__dict__)
                        except Exception:
                            pass
    return seen
_CLASSES = _class_snapshot()
_DEFAULT_CTX = _decimal.DefaultContext.copy()

def _restore():
    for c, saved in _CLASSES.items():
        cur = c.__dict__
        if len(cur) == len(saved) and all(cur.get(k, _restore) is v for k, v in saved.items()):
            continue
        for k in list(cur.keys()):
            if k not in saved and k not in ('__dict__', '__weakref__'):
                try:
                    type.__delattr__(c, k)
                except Exception:
                    pass
        for k, v in saved.items():
            if cur.get(k, _restore) is not v:
                try:
                    type.__setattr__(c, k, v)
                except Exception:
                    pass
    for f in ('prec', 'rounding', 'Emin', 'Emax', 'capitals', 'clamp'):
        setattr(_decimal.DefaultContext, f, getattr(_DEFAULT_CTX, f))
    _decimal.DefaultContext.traps = _DEFAULT_CTX.traps.copy()
    _decimal.DefaultContext.flags = _DEFAULT_CTX.flags.copy()
    _decimal.setcontext(_DEFAULT_CTX.copy())

_program = None

def _fmt(e):
    msg = str(e) if not isinstance(e, SyntaxError) else (e.msg or '') + ' (line ' + str(e.lineno) + ')'
    return type(e).__name__ + (': ' + msg[:200] if msg else '')

def _fresh_ns():
    return {'__builtins__': _fresh_builtins(), '__name__': '__main__'}

def load(src):
    """Compile the program under the policy and run it once. ('pass', '') or ('program', why)."""
    global _program
    _program = None
    try:
        tree = _ast.parse(src, '<program>', 'exec')
        _gate(tree)
        code = compile(tree, '<program>', 'exec')
    except BaseException as e:
        return ('program', _fmt(e))
    _program = code
    _restore()
    try:
        exec(code, _fresh_ns())
    except BaseException as e:
        _program = None
        return ('program', _fmt(e))
    return ('pass', '')

_PLAIN_ATOMS = (type(None), bool, int, float, complex, str, bytes)
def _plain(x, depth=0):
    t = type(x)
    if t in _PLAIN_ATOMS:
        return True
    if depth > 50:
        return False
    if t in (list, tuple, set, frozenset):
        return all(_plain(v, depth + 1) for v in x)
    if t is dict:
        return all(_plain(k, depth + 1) and _plain(v, depth + 1) for k, v in x.items())
    return False

_OPS = {_ast.Eq: _op.eq, _ast.NotEq: _op.ne, _ast.Lt: _op.lt, _ast.LtE: _op.le, _ast.Gt: _op.gt, _ast.GtE: _op.ge,
        _ast.Is: _op.is_, _ast.IsNot: _op.is_not, _ast.In: lambda a, b: a in b, _ast.NotIn: lambda a, b: a not in b}
_tests = {}

def _compile_test(src):
    t = _tests.get(src)
    if t is None:
        tree = _ast.parse(src, '<test>', 'exec')
        s = tree.body[0] if len(tree.body) == 1 else None
        if isinstance(s, _ast.Assert) and isinstance(s.test, _ast.Compare) and len(s.test.ops) == 1 and type(s.test.ops[0]) in _OPS:
            ev = lambda node: compile(_ast.fix_missing_locations(_ast.Expression(node)), '<test>', 'eval')
            t = ('compare', ev(s.test.left), _OPS[type(s.test.ops[0])], ev(s.test.comparators[0]))
        elif isinstance(s, _ast.Assert):
            t = ('truth', compile(_ast.fix_missing_locations(_ast.Expression(s.test)), '<test>', 'eval'))
        else:
            t = ('stmt', compile(tree, '<test>', 'exec'))
        if len(_tests) > 4096:
            _tests.clear()
        _tests[src] = t
    return t

def run_test(src):
    """Restore, run the program in a fresh namespace, then judge one test."""
    if _program is None:
        return ('program', 'no program loaded')
    try:
        t = _compile_test(src)
    except BaseException as e:
        return ('error', 'bad test: ' + _fmt(e))
    _restore()
    ns = _fresh_ns()
    try:
        exec(_program, ns)
    except BaseException as e:
        return ('program', _fmt(e))
    # The test imports afresh: a module the program rebound or mutated is not the one the test sees.
    ns['__builtins__'] = _fresh_builtins()
    try:
        if t[0] == 'compare':
            a = eval(t[1], ns)
            b = eval(t[3], ns)
            if _plain(b) and not _plain(a):
                return ('fail', 'got a ' + type(a).__name__ + ', not plain data')
            ok = t[2](a, b)
            if type(ok) is not bool:
                return ('fail', 'the comparison did not give a bool')
            return ('pass', '') if ok else ('fail', 'assertion failed')
        if t[0] == 'truth':
            v = eval(t[1], ns)
            if not _plain(v):
                return ('fail', 'got a ' + type(v).__name__ + ', not plain data')
            return ('pass', '') if v else ('fail', 'assertion failed')
        exec(t[1], ns)
        return ('pass', '')
    except AssertionError as e:
        return ('fail', _fmt(e))
    except BaseException as e:
        return ('error', _fmt(e))
`;

/**
 * Process-level neutering run before the harness under the default policy: the host-reaching functions of
 * `os`/`posix` raise PermissionError instead of reaching the JavaScript wall (where they would kill the
 * interpreter), the FFI and network modules are unimportable, and the environment is empty. The wall in
 * ./worker-source.ts holds without it (tests run hostile programs with the policy off to check that).
 */
export const PYTHON_OS_POLICY = String.raw`
import os as _os, posix as _posix, sys as _sys
_os.environ.clear()
def _denied(*a, **k):
    raise PermissionError('not permitted in the sandbox')
for _n in ('system', 'popen', 'fork', 'forkpty', 'execv', 'execve', 'execl', 'execle', 'execlp', 'execlpe',
           'execvp', 'execvpe', 'spawnl', 'spawnle', 'spawnv', 'spawnve', 'spawnlp', 'spawnlpe', 'spawnvp',
           'spawnvpe', 'kill', 'killpg', '_exit', 'abort', 'putenv', 'unsetenv', 'chdir', 'chroot'):
    for _m in (_os, _posix):
        if hasattr(_m, _n):
            setattr(_m, _n, _denied)
for _n in ('js', 'pyodide_js', '_socket', 'socket', 'select', 'ssl', 'subprocess', '_posixsubprocess', 'ctypes',
           '_ctypes', 'pyodide.ffi', 'pyodide.code', 'pyodide.http', 'micropip', 'urllib.request', 'http.client'):
    _sys.modules[_n] = None
`;
