/**
 * A parser for oslo.policy check strings.
 *
 * Grammar (lowest precedence first):
 *
 *   expr    := and ( 'or' and )*
 *   and     := unary ( 'and' unary )*
 *   unary   := 'not' unary | '(' expr ')' | check
 *   check   := '@' | '!' | kind ':' match
 *
 * Tokens are separated by whitespace; parentheses may be glued to a check
 * (`(role:a`, `role:b)`). The operators are case-insensitive. An empty check
 * string always passes. A string that cannot be parsed becomes a check that
 * never passes, as oslo.policy does with rules it fails to understand.
 */

export type CheckNode =
  | { type: 'true' }
  | { type: 'false' }
  | { type: 'not'; rule: CheckNode }
  | { type: 'and'; rules: CheckNode[] }
  | { type: 'or'; rules: CheckNode[] }
  | { type: 'role'; match: string }
  | { type: 'rule'; match: string }
  /** `kind:match` where kind is a credential path (or a literal) and match may hold `%(target)s`. */
  | { type: 'generic'; kind: string; match: string };

export class PolicySyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicySyntaxError';
  }
}

type Token = { t: '(' } | { t: ')' } | { t: 'and' } | { t: 'or' } | { t: 'not' } | { t: 'check'; node: CheckNode } | { t: 'string'; value: string };

export const TRUE: CheckNode = Object.freeze({ type: 'true' });
export const FALSE: CheckNode = Object.freeze({ type: 'false' });

/** Parses one `kind:match` atom (or `@` / `!`). */
export function parseAtom(atom: string): CheckNode {
  if (atom === '@') return TRUE;
  if (atom === '!') return FALSE;
  const colon = atom.indexOf(':');
  if (colon < 0) throw new PolicySyntaxError(`not a check: ${atom}`);
  const kind = atom.slice(0, colon);
  const match = atom.slice(colon + 1);
  if (kind === 'role') return { type: 'role', match };
  if (kind === 'rule') return { type: 'rule', match };
  return { type: 'generic', kind, match };
}

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  for (const word of text.split(/\s+/)) {
    if (word === '') continue;
    let clean = word;
    let open = 0;
    while (clean.startsWith('(')) {
      open++;
      clean = clean.slice(1);
    }
    let close = 0;
    while (clean.endsWith(')')) {
      close++;
      clean = clean.slice(0, -1);
    }
    for (let i = 0; i < open; i++) out.push({ t: '(' });
    if (clean !== '') {
      const lower = clean.toLowerCase();
      if (lower === 'and' || lower === 'or' || lower === 'not') {
        out.push({ t: lower });
      } else if (clean.length >= 2 && (clean[0] === '"' || clean[0] === "'") && clean[0] === clean[clean.length - 1]) {
        out.push({ t: 'string', value: clean.slice(1, -1) });
      } else {
        out.push({ t: 'check', node: parseAtom(clean) });
      }
    }
    for (let i = 0; i < close; i++) out.push({ t: ')' });
  }
  return out;
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): CheckNode {
    const node = this.expr();
    const rest = this.tokens[this.pos];
    if (rest) throw new PolicySyntaxError(`unexpected '${describe(rest)}'`);
    return node;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private expr(): CheckNode {
    const rules = [this.and()];
    while (this.peek()?.t === 'or') {
      this.pos++;
      rules.push(this.and());
    }
    return rules.length === 1 && rules[0] ? rules[0] : { type: 'or', rules };
  }

  private and(): CheckNode {
    const rules = [this.unary()];
    while (this.peek()?.t === 'and') {
      this.pos++;
      rules.push(this.unary());
    }
    return rules.length === 1 && rules[0] ? rules[0] : { type: 'and', rules };
  }

  private unary(): CheckNode {
    const tok = this.tokens[this.pos++];
    if (!tok) throw new PolicySyntaxError('unexpected end of rule');
    switch (tok.t) {
      case 'not':
        return { type: 'not', rule: this.unary() };
      case '(': {
        const inner = this.expr();
        const close = this.tokens[this.pos++];
        if (close?.t !== ')') throw new PolicySyntaxError('missing )');
        return inner;
      }
      case 'check':
        return tok.node;
      default:
        throw new PolicySyntaxError(`unexpected '${describe(tok)}'`);
    }
  }
}

function describe(tok: Token): string {
  if (tok.t === 'check') return 'check';
  if (tok.t === 'string') return `'${tok.value}'`;
  return tok.t;
}

/** Parses a check string strictly; throws PolicySyntaxError when it is not valid. */
export function parseStrict(text: string): CheckNode {
  const tokens = tokenize(text);
  if (tokens.length === 0) return TRUE;
  return new Parser(tokens).parse();
}

/** Parses a check string as oslo.policy does: invalid rules never pass. */
export function parseCheck(text: string): CheckNode {
  try {
    return parseStrict(text);
  } catch (e) {
    if (e instanceof PolicySyntaxError) return FALSE;
    throw e;
  }
}

/** The legacy list-of-lists syntax: an OR of ANDs of atoms; `[]` always passes. */
export function parseListSyntax(rule: unknown): CheckNode {
  if (!Array.isArray(rule)) throw new PolicySyntaxError('expected a list');
  if (rule.length === 0) return TRUE;
  const ors: CheckNode[] = [];
  for (const inner of rule as unknown[]) {
    if (!Array.isArray(inner)) throw new PolicySyntaxError('expected a list of lists');
    if (inner.length === 0) continue;
    const ands = (inner as unknown[]).map((a) => {
      if (typeof a !== 'string') throw new PolicySyntaxError('expected a string');
      return parseAtom(a);
    });
    ors.push(ands.length === 1 && ands[0] ? ands[0] : { type: 'and', rules: ands });
  }
  if (ors.length === 0) return FALSE;
  return ors.length === 1 && ors[0] ? ors[0] : { type: 'or', rules: ors };
}

/** Renders a tree back to a check string (for messages and tests). */
export function render(node: CheckNode): string {
  switch (node.type) {
    case 'true':
      return '@';
    case 'false':
      return '!';
    case 'not':
      return `not ${render(node.rule)}`;
    case 'and':
    case 'or':
      return `(${node.rules.map(render).join(` ${node.type} `)})`;
    case 'role':
      return `role:${node.match}`;
    case 'rule':
      return `rule:${node.match}`;
    case 'generic':
      return `${node.kind}:${node.match}`;
  }
}
