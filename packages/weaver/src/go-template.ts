/**
 * A subset of Go's text/template, enough for `weave report -f` (`GET /report?format=`): text and
 * `{{…}}` actions with `{{-`/`-}}` trimming and comments; fields `.A.B`, `$`, variables `$x := …`;
 * `if`/`else if`/`else`, `range [$i, $e :=] …`, `with`; pipes `|`, parentheses; functions `json`,
 * `printf`, `print`, `println`, `len`, `index`, `eq ne lt le gt ge`, `and or not`. Values print as
 * Go's `%v` would print the report (objects with capitalised keys as structs `{a b}`, others as
 * `map[k:v]`). Parse errors throw {@link TemplateParseError}, execution errors {@link TemplateExecError}.
 */

/** A template that does not parse (the HTTP API answers 400 with its message). */
export class TemplateParseError extends Error {
  /** The error's stable name: `'TemplateParseError'`. */
  override name = 'TemplateParseError';
}

/** A template that fails while running (the HTTP API answers 500). */
export class TemplateExecError extends Error {
  /** The error's stable name: `'TemplateExecError'`. */
  override name = 'TemplateExecError';
}

type Arg =
  | { kind: 'field'; base: 'dot' | { variable: string }; path: string[] }
  | { kind: 'literal'; value: unknown }
  | { kind: 'ident'; name: string }
  | { kind: 'pipe'; pipe: Pipeline; path: string[] };
interface Command {
  args: Arg[];
}
interface Pipeline {
  decl: string[];
  assign: boolean;
  commands: Command[];
}
type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipeline }
  | { kind: 'if' | 'with' | 'range'; pipe: Pipeline; body: Node[]; elseBody: Node[] };

// ---- lexing of one action ---------------------------------------------------------------------

type Token =
  | { t: 'field'; path: string[] }
  | { t: 'var'; name: string; path: string[] }
  | { t: 'ident'; name: string }
  | { t: 'string' | 'number' | 'bool' | 'nil'; value: unknown }
  | { t: 'chain'; path: string[] }
  | { t: '(' | ')' | '|' | ':=' | '=' | ',' };

function lexAction(src: string, name: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (msg: string): never => {
    throw new TemplateParseError(`template: ${name}:1: ${msg}`);
  };
  const readPath = (): string[] => {
    const path: string[] = [];
    while (src[i] === '.' && /[A-Za-z_]/.test(src[i + 1] ?? '')) {
      i++;
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      path.push(m[0]);
      i += m[0].length;
    }
    return path;
  };
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === '|' || c === ',') {
      tokens.push({ t: c });
      i++;
      // `(pipeline).Field`: fields chained onto a parenthesised result
      if (c === ')' && src[i] === '.' && /[A-Za-z_]/.test(src[i + 1] ?? ''))
        tokens.push({ t: 'chain', path: readPath() });
    } else if (c === ':' && src[i + 1] === '=') {
      tokens.push({ t: ':=' });
      i += 2;
    } else if (c === '=') {
      tokens.push({ t: '=' });
      i++;
    } else if (c === '.') {
      if (/[A-Za-z_]/.test(src[i + 1] ?? '')) tokens.push({ t: 'field', path: readPath() });
      else {
        i++;
        tokens.push({ t: 'field', path: [] });
      }
    } else if (c === '$') {
      const m = /^\$[A-Za-z0-9_]*/.exec(src.slice(i))!;
      i += m[0].length;
      tokens.push({ t: 'var', name: m[0], path: readPath() });
    } else if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      if (j >= src.length) fail('unterminated quoted string');
      try {
        tokens.push({ t: 'string', value: JSON.parse(src.slice(i, j + 1)) });
      } catch {
        fail(`invalid syntax: ${src.slice(i, j + 1)}`);
      }
      i = j + 1;
    } else if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j < 0) fail('unterminated raw quoted string');
      tokens.push({ t: 'string', value: src.slice(i + 1, j) });
      i = j + 1;
    } else if (/[-+0-9]/.test(c)) {
      const m = /^[-+]?(0x[0-9a-fA-F]+|[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?)/.exec(src.slice(i));
      if (!m) fail(`bad number syntax: "${src.slice(i, i + 10)}"`);
      tokens.push({ t: 'number', value: Number(m![0]) });
      i += m![0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      i += m[0].length;
      if (m[0] === 'true' || m[0] === 'false') tokens.push({ t: 'bool', value: m[0] === 'true' });
      else if (m[0] === 'nil') tokens.push({ t: 'nil', value: null });
      else tokens.push({ t: 'ident', name: m[0] });
    } else {
      fail(`unexpected "${c}" in command`);
    }
  }
  return tokens;
}

// ---- parsing ----------------------------------------------------------------------------------

const FUNCTIONS = new Set([
  'and',
  'or',
  'not',
  'len',
  'index',
  'print',
  'printf',
  'println',
  'eq',
  'ne',
  'lt',
  'le',
  'gt',
  'ge',
  'json',
]);

function parsePipeline(tokens: Token[], name: string, allowDecl: 'none' | 'one' | 'two'): Pipeline {
  const fail = (msg: string): never => {
    throw new TemplateParseError(`template: ${name}:1: ${msg}`);
  };
  let pos = 0;
  const decl: string[] = [];
  let assign = false;
  // `$x :=`, `$x =`, or `$i, $e :=` (range only)
  const declEnd = tokens.findIndex((t) => t.t === ':=' || t.t === '=');
  if (declEnd > 0) {
    const lhs = tokens.slice(0, declEnd);
    const vars = lhs.filter((t, k) => (k % 2 === 0 ? t.t === 'var' : t.t === ','));
    const ok =
      vars.length === lhs.length &&
      lhs.length % 2 === 1 &&
      lhs.every((t) => t.t !== 'var' || t.path.length === 0) &&
      (lhs.length === 1 || allowDecl === 'two') &&
      lhs.length <= 3;
    if (ok) {
      for (const t of lhs) if (t.t === 'var') decl.push(t.name);
      assign = tokens[declEnd]!.t === '=';
      pos = declEnd + 1;
    }
  }
  const parseCommands = (stopAtParen: boolean): Command[] => {
    const commands: Command[] = [];
    let args: Arg[] = [];
    while (pos < tokens.length) {
      const tok = tokens[pos]!;
      if (tok.t === ')') {
        if (!stopAtParen) fail('unexpected right paren');
        break;
      }
      pos++;
      switch (tok.t) {
        case '|':
          if (args.length === 0) fail('missing command');
          commands.push({ args });
          args = [];
          break;
        case '(': {
          const inner = parseCommands(true);
          if (tokens[pos]?.t !== ')') fail('unclosed left paren');
          pos++;
          const sub: Pipeline = { decl: [], assign: false, commands: inner };
          const next = tokens[pos];
          let path: string[] = [];
          if (next?.t === 'chain') {
            path = next.path;
            pos++;
          }
          args.push({ kind: 'pipe', pipe: sub, path });
          break;
        }
        case 'field':
          args.push({ kind: 'field', base: 'dot', path: tok.path });
          break;
        case 'var':
          args.push({ kind: 'field', base: { variable: tok.name }, path: tok.path });
          break;
        case 'ident':
          if (!FUNCTIONS.has(tok.name)) fail(`function "${tok.name}" not defined`);
          args.push({ kind: 'ident', name: tok.name });
          break;
        case 'string':
        case 'number':
        case 'bool':
        case 'nil':
          args.push({ kind: 'literal', value: tok.value });
          break;
        default:
          fail(`unexpected "${tok.t}" in command`);
      }
    }
    if (args.length === 0) fail(commands.length === 0 ? 'missing value for command' : 'missing command');
    commands.push({ args });
    return commands;
  };
  const commands = parseCommands(false);
  if (pos !== tokens.length) fail('unexpected right paren');
  return { decl, assign, commands };
}

interface Frame {
  kind: 'root' | 'if' | 'with' | 'range';
  node?: Extract<Node, { kind: 'if' | 'with' | 'range' }>;
  list: Node[];
  inElse: boolean;
  /** `else if` chains: closing the outer block closes these too. */
  chained: number;
}

/** Parses `text`; `name` appears in error messages as Go's does (`template: format:1: …`). */
export function parseTemplate(text: string, name = 'format'): GoTemplate {
  const root: Node[] = [];
  const stack: Frame[] = [{ kind: 'root', list: root, inElse: false, chained: 0 }];
  const top = () => stack[stack.length - 1]!;
  const fail = (msg: string): never => {
    throw new TemplateParseError(`template: ${name}:1: ${msg}`);
  };
  let i = 0;
  let trimNext = false;
  while (i < text.length) {
    const open = text.indexOf('{{', i);
    let chunk = open < 0 ? text.slice(i) : text.slice(i, open);
    if (trimNext) chunk = chunk.replace(/^\s+/, '');
    trimNext = false;
    if (open < 0) {
      if (chunk) top().list.push({ kind: 'text', text: chunk });
      break;
    }
    let start = open + 2;
    if (text.startsWith('- ', start) || /^-[\t\r\n]/.test(text.slice(start, start + 2))) {
      chunk = chunk.replace(/\s+$/, '');
      start += 1;
    }
    if (chunk) top().list.push({ kind: 'text', text: chunk });
    const close = text.indexOf('}}', start);
    if (close < 0) fail('unclosed action');
    let end = close;
    if (/[ \t\r\n]-$/.test(text.slice(start, close)) && close - 2 >= start) {
      end = close - 1;
      trimNext = true;
    }
    const body = text.slice(start, end).trim();
    i = close + 2;
    if (body.startsWith('/*')) {
      if (!body.endsWith('*/')) fail('unclosed comment');
      continue;
    }
    const keyword = /^(if|else|end|range|with|define|template|block|break|continue)\b/.exec(body)?.[1];
    const rest = keyword ? body.slice(keyword.length) : body;
    switch (keyword) {
      case undefined: {
        if (body === '') fail('missing value for command');
        top().list.push({ kind: 'action', pipe: parsePipeline(lexAction(rest, name), name, 'one') });
        break;
      }
      case 'if':
      case 'with':
      case 'range': {
        if (rest.trim() === '') fail(`missing value for ${keyword}`);
        const node = {
          kind: keyword,
          pipe: parsePipeline(lexAction(rest, name), name, keyword === 'range' ? 'two' : 'one'),
          body: [] as Node[],
          elseBody: [] as Node[],
        };
        top().list.push(node);
        stack.push({ kind: keyword, node, list: node.body, inElse: false, chained: 0 });
        break;
      }
      case 'else': {
        const frame = top();
        if (frame.kind === 'root' || frame.inElse) fail('unexpected {{else}}');
        frame.inElse = true;
        frame.list = frame.node!.elseBody;
        const chain = /^\s*(if|with)\b/.exec(rest);
        if (chain) {
          const kind = chain[1] as 'if' | 'with';
          const node = {
            kind,
            pipe: parsePipeline(lexAction(rest.trim().slice(kind.length), name), name, 'one'),
            body: [] as Node[],
            elseBody: [] as Node[],
          };
          frame.list.push(node);
          stack.push({ kind, node, list: node.body, inElse: false, chained: frame.chained + 1 });
          frame.chained = 0;
        } else if (rest.trim() !== '') fail(`unexpected "${rest.trim()}" in else`);
        break;
      }
      case 'end': {
        if (rest.trim() !== '') fail(`unexpected "${rest.trim()}" in end`);
        const frame = top();
        if (frame.kind === 'root') fail('unexpected {{end}}');
        stack.pop();
        for (let k = 0; k < frame.chained; k++) stack.pop();
        break;
      }
      default:
        fail(`{{${keyword}}} is not supported here`);
    }
  }
  if (stack.length > 1) fail(`unexpected EOF`);
  return new GoTemplate(root, name);
}

// ---- execution --------------------------------------------------------------------------------

const MAX_OUTPUT = 16 << 20;

class Scope {
  readonly vars: [string, unknown][] = [];
  constructor(root: unknown) {
    this.vars.push(['$', root]);
  }
  get(name: string): unknown {
    for (let k = this.vars.length - 1; k >= 0; k--) if (this.vars[k]![0] === name) return this.vars[k]![1];
    throw new TemplateExecError(`undefined variable: ${name}`);
  }
  set(name: string, value: unknown): void {
    for (let k = this.vars.length - 1; k >= 0; k--) {
      if (this.vars[k]![0] === name) {
        this.vars[k]![1] = value;
        return;
      }
    }
    throw new TemplateExecError(`undefined variable: ${name}`);
  }
}

/** Go's notion of an empty value, for `if`, `with`, `and`, `or`, `not`. */
export function isTrue(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

const isStructLike = (o: object) => {
  const keys = Object.keys(o);
  return keys.length > 0 && keys.every((k) => /^[A-Z]/.test(k));
};

/** A value as Go's `%v` prints it. */
export function formatValue(v: unknown): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return `[${v.map(formatNested).join(' ')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (isStructLike(o))
      return `{${Object.values(o)
        .map((x) => formatNested(x))
        .join(' ')}}`;
    return `map[${Object.keys(o)
      .sort()
      .map((k) => `${k}:${formatNested(o[k])}`)
      .join(' ')}]`;
  }
  return String(v);
}

function formatNested(v: unknown): string {
  return v === undefined || v === null ? '<nil>' : formatValue(v);
}

/** Go's `fmt.Sprintf` for the verbs reports need: `%v %s %d %q %t %x %f %%`, flags `-+0 `, width and precision. */
export function sprintf(format: string, args: unknown[]): string {
  let out = '';
  let argIndex = 0;
  const re = /%([-+ 0#]*)(\d+|\*)?(?:\.(\d+|\*)?)?([a-zA-Z%])/g;
  let last = 0;
  for (let m = re.exec(format); m !== null; m = re.exec(format)) {
    out += format.slice(last, m.index);
    last = re.lastIndex;
    const [, flags = '', widthText, precText, verb] = m;
    if (verb === '%') {
      out += '%';
      continue;
    }
    const width = widthText === '*' ? Number(args[argIndex++]) : widthText ? Number(widthText) : undefined;
    const precision =
      precText === '*' ? Number(args[argIndex++]) : precText !== undefined ? Number(precText) : undefined;
    if (argIndex >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const arg = args[argIndex++];
    let s: string;
    switch (verb) {
      case 'v':
      case 's':
        s = formatValue(arg);
        if (precision !== undefined) s = [...s].slice(0, precision).join('');
        break;
      case 'q':
        s = JSON.stringify(typeof arg === 'string' ? arg : formatValue(arg));
        break;
      case 'd':
        s = typeof arg === 'number' ? String(Math.trunc(arg)) : `%!d(${typeof arg}=${formatValue(arg)})`;
        if (flags.includes('+') && typeof arg === 'number' && arg >= 0) s = `+${s}`;
        break;
      case 'x':
      case 'X':
        s = typeof arg === 'number' ? Math.trunc(arg).toString(16) : Buffer.from(String(arg)).toString('hex');
        if (verb === 'X') s = s.toUpperCase();
        break;
      case 'f':
      case 'g':
      case 'e':
        s =
          typeof arg !== 'number'
            ? `%!${verb}(${typeof arg}=${formatValue(arg)})`
            : verb === 'f'
              ? arg.toFixed(precision ?? 6)
              : verb === 'e'
                ? arg.toExponential(precision ?? 6)
                : String(arg);
        break;
      case 't':
        s = typeof arg === 'boolean' ? String(arg) : `%!t(${typeof arg}=${formatValue(arg)})`;
        break;
      default:
        s = `%!${verb}(${typeof arg}=${formatValue(arg)})`;
    }
    if (width !== undefined && s.length < width) {
      if (flags.includes('-')) s = s.padEnd(width);
      else if (flags.includes('0') && /[dfxXeg]/.test(verb!)) {
        const neg = s.startsWith('-') || s.startsWith('+');
        s = neg ? s[0] + s.slice(1).padStart(width - 1, '0') : s.padStart(width, '0');
      } else s = s.padStart(width);
    }
    out += s;
  }
  out += format.slice(last);
  if (argIndex < args.length) out += `%!(EXTRA ${args.slice(argIndex).map(formatValue).join(', ')})`;
  return out;
}

function goLen(v: unknown): number {
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (Array.isArray(v)) return v.length;
  if (v !== null && typeof v === 'object') return Object.keys(v).length;
  if (v === null) return 0;
  throw new TemplateExecError(`error calling len: len of type ${typeof v}`);
}

function compare(name: string, a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (name === 'eq' || name === 'ne') return a === b ? 0 : 1;
  throw new TemplateExecError(`error calling ${name}: incompatible types for comparison`);
}

function callFunction(name: string, args: unknown[]): unknown {
  switch (name) {
    case 'json':
      if (args.length !== 1) throw new TemplateExecError('wrong number of args for json: want 1');
      return JSON.stringify(args[0] === undefined ? null : args[0]);
    case 'printf':
      return sprintf(formatValue(args[0]), args.slice(1));
    case 'print':
      return args
        .map(
          (a, k) =>
            (k > 0 && typeof a !== 'string' && typeof args[k - 1] !== 'string' ? ' ' : '') + formatValue(a),
        )
        .join('');
    case 'println':
      return `${args.map(formatValue).join(' ')}\n`;
    case 'len':
      if (args.length !== 1) throw new TemplateExecError('wrong number of args for len: want 1');
      return goLen(args[0]);
    case 'index': {
      let v = args[0];
      for (const key of args.slice(1)) {
        if (v === null || v === undefined) throw new TemplateExecError('error calling index: index of nil');
        v = (v as Record<string, unknown>)[String(key)];
      }
      return v;
    }
    case 'not':
      return !isTrue(args[0]);
    case 'and': {
      for (const a of args) if (!isTrue(a)) return a;
      return args[args.length - 1];
    }
    case 'or': {
      for (const a of args) if (isTrue(a)) return a;
      return args[args.length - 1];
    }
    case 'eq':
      if (args.length < 2) throw new TemplateExecError('missing argument for comparison');
      return args.slice(1).some((b) => compare('eq', args[0], b) === 0);
    case 'ne':
      return compare('ne', args[0], args[1]) !== 0;
    case 'lt':
      return compare('lt', args[0], args[1]) < 0;
    case 'le':
      return compare('le', args[0], args[1]) <= 0;
    case 'gt':
      return compare('gt', args[0], args[1]) > 0;
    case 'ge':
      return compare('ge', args[0], args[1]) >= 0;
    default:
      throw new TemplateExecError(`function "${name}" not defined`);
  }
}

/** A parsed template; {@link GoTemplate.execute} renders it against data. */
export class GoTemplate {
  /** @internal */
  constructor(
    private readonly nodes: Node[],
    /** The name in error messages (`format`). */
    readonly name: string,
  ) {}

  /** Renders the template with `data` as dot. @throws TemplateExecError */
  execute(data: unknown): string {
    const out: string[] = [];
    let size = 0;
    const emit = (s: string) => {
      size += s.length;
      if (size > MAX_OUTPUT) throw new TemplateExecError('template output too large');
      out.push(s);
    };
    this.run(this.nodes, data, new Scope(data), emit, 0);
    return out.join('');
  }

  private run(nodes: Node[], dot: unknown, scope: Scope, emit: (s: string) => void, depth: number): void {
    if (depth > 100) throw new TemplateExecError('exceeded maximum template depth (100)');
    for (const node of nodes) {
      if (node.kind === 'text') {
        emit(node.text);
      } else if (node.kind === 'action') {
        // A declaration prints nothing; its variable lives until the end of the enclosing block.
        const v = this.pipeline(node.pipe, dot, scope);
        if (node.pipe.decl.length === 0) emit(formatValue(v));
      } else if (node.kind === 'if' || node.kind === 'with') {
        const mark = scope.vars.length;
        const v = this.pipeline(node.pipe, dot, scope);
        if (isTrue(v)) this.run(node.body, node.kind === 'with' ? v : dot, scope, emit, depth + 1);
        else this.run(node.elseBody, dot, scope, emit, depth + 1);
        scope.vars.length = mark;
      } else {
        const mark = scope.vars.length;
        const decl = node.pipe.decl;
        const v = this.pipeline({ ...node.pipe, decl: [] }, dot, scope);
        let items: [unknown, unknown][];
        if (v === null || v === undefined) items = [];
        else if (Array.isArray(v)) items = v.map((e, k) => [k, e]);
        else if (typeof v === 'object')
          items = Object.keys(v)
            .sort()
            .map((k) => [k, (v as Record<string, unknown>)[k]]);
        else if (typeof v === 'number' && Number.isInteger(v) && v >= 0)
          items = Array.from({ length: Math.min(v, 1 << 20) }, (_, k) => [k, k]);
        else throw new TemplateExecError(`range can't iterate over ${formatValue(v)}`);
        if (items.length === 0) this.run(node.elseBody, dot, scope, emit, depth + 1);
        for (const [key, elem] of items) {
          const inner = scope.vars.length;
          if (decl.length === 1) scope.vars.push([decl[0]!, elem]);
          if (decl.length === 2) scope.vars.push([decl[0]!, key], [decl[1]!, elem]);
          this.run(node.body, elem, scope, emit, depth + 1);
          scope.vars.length = inner;
        }
        scope.vars.length = mark;
      }
    }
  }

  private pipeline(pipe: Pipeline, dot: unknown, scope: Scope): unknown {
    let value: unknown;
    let first = true;
    for (const cmd of pipe.commands) {
      value = this.command(cmd, dot, scope, first ? undefined : { value });
      first = false;
    }
    if (pipe.decl.length > 0) {
      if (pipe.assign) scope.set(pipe.decl[0]!, value);
      else scope.vars.push([pipe.decl[0]!, value]);
    }
    return value;
  }

  private command(cmd: Command, dot: unknown, scope: Scope, piped?: { value: unknown }): unknown {
    const [head, ...rest] = cmd.args;
    if (head?.kind === 'ident') {
      const args = rest.map((a) => this.arg(a, dot, scope));
      if (piped) args.push(piped.value);
      return callFunction(head.name, args);
    }
    if (rest.length > 0 || piped)
      throw new TemplateExecError(`can't give argument to non-function ${describe(head!)}`);
    return this.arg(head!, dot, scope);
  }

  private arg(arg: Arg, dot: unknown, scope: Scope): unknown {
    switch (arg.kind) {
      case 'literal':
        return arg.value;
      case 'ident':
        return callFunction(arg.name, []);
      case 'pipe':
        return fieldPath(this.pipeline(arg.pipe, dot, scope), arg.path);
      case 'field':
        return fieldPath(arg.base === 'dot' ? dot : scope.get(arg.base.variable), arg.path);
    }
  }
}

function fieldPath(start: unknown, path: readonly string[]): unknown {
  let v = start;
  for (const key of path) {
    if (v === null || v === undefined) throw new TemplateExecError(`nil pointer evaluating .${key}`);
    if (typeof v !== 'object' || Array.isArray(v))
      throw new TemplateExecError(
        `can't evaluate field ${key} in type ${Array.isArray(v) ? 'slice' : typeof v}`,
      );
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function describe(arg: Arg): string {
  if (arg.kind === 'field') return `${arg.base === 'dot' ? '' : arg.base.variable}.${arg.path.join('.')}`;
  if (arg.kind === 'literal') return formatValue(arg.value);
  return arg.kind;
}

/** Parses and runs `text` against `data` in one go. */
export function renderTemplate(text: string, data: unknown): string {
  return parseTemplate(text).execute(data);
}
