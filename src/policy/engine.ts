import { FALSE, parseCheck, parseListSyntax, PolicySyntaxError, type CheckNode } from './parser.js';

export type Target = Record<string, unknown>;
export type Creds = Record<string, unknown>;

/** Python's str() of a JSON-ish value, which is what oslo.policy compares. */
export function pyStr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'bigint') return v.toString();
  return JSON.stringify(v);
}

/**
 * Python's str(ast.literal_eval(kind)) for the scalar literals that may sit
 * left of a generic check's colon; null when `kind` is not a literal (then it
 * is a credential path).
 */
function literalStr(kind: string): string | null {
  if (kind === 'True' || kind === 'False' || kind === 'None') return kind;
  if (kind.length >= 2 && (kind[0] === "'" || kind[0] === '"') && kind[kind.length - 1] === kind[0]) return kind.slice(1, -1);
  if (/^[-+]?\d+$/.test(kind)) return BigInt(kind).toString();
  if (/^[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$/.test(kind)) {
    const n = Number(kind);
    return Number.isInteger(n) && Math.abs(n) < 1e16 ? `${n}.0` : String(n);
  }
  return null;
}

function own(obj: unknown, key: string): { found: boolean; value: unknown } {
  if (obj !== null && typeof obj === 'object' && !Array.isArray(obj) && Object.prototype.hasOwnProperty.call(obj, key)) {
    return { found: true, value: (obj as Record<string, unknown>)[key] };
  }
  return { found: false, value: undefined };
}

/** Resolves `%(name)s` against the target: a flat key first, then a dotted walk into nested objects. */
function lookupTarget(target: Target, name: string): { found: boolean; value: unknown } {
  const flat = own(target, name);
  if (flat.found) return flat;
  if (!name.includes('.')) return flat;
  let cur: unknown = target;
  for (const part of name.split('.')) {
    const next = own(cur, part);
    if (!next.found) return next;
    cur = next.value;
  }
  return { found: true, value: cur };
}

/** Python `match % target` for `%(key)s` and `%%`; null when a key is missing. */
export function interpolate(match: string, target: Target): string | null {
  if (!match.includes('%')) return match;
  let missing = false;
  const out = match.replace(/%\(([^)]*)\)s|%%/g, (whole, name: string | undefined) => {
    if (whole === '%%') return '%';
    const hit = lookupTarget(target, name ?? '');
    if (!hit.found) {
      missing = true;
      return '';
    }
    return pyStr(hit.value);
  });
  return missing ? null : out;
}

function findInCreds(value: unknown, path: string[], match: string): boolean {
  if (path.length === 0) return pyStr(value) === match;
  const [key = '', ...rest] = path;
  const hit = own(value, key);
  if (!hit.found) return false;
  if (Array.isArray(hit.value)) return hit.value.some((v) => findInCreds(v, rest, match));
  return findInCreds(hit.value, rest, match);
}

/** Compiles a check string (or the legacy JSON list syntax) to a tree. */
export function compile(check: string): CheckNode {
  const trimmed = check.trim();
  if (trimmed.startsWith('[')) {
    try {
      return parseListSyntax(JSON.parse(trimmed));
    } catch (e) {
      if (e instanceof SyntaxError || e instanceof PolicySyntaxError) return FALSE;
      throw e;
    }
  }
  return parseCheck(check);
}

/**
 * The rule set: each rule compiled once. Overrides replace defaults of the
 * same name and may add new rule names. Unknown rules deny.
 */
export class Enforcer {
  private readonly rules = new Map<string, CheckNode>();
  private readonly adhoc = new Map<string, CheckNode>();

  constructor(defaults: Iterable<{ name: string; check: string }>, overrides: Record<string, string> = {}) {
    for (const d of defaults) this.rules.set(d.name, compile(d.check));
    for (const [name, check] of Object.entries(overrides)) this.rules.set(name, compile(check));
  }

  has(rule: string): boolean {
    return this.rules.has(rule);
  }

  /** Evaluates a named rule. */
  enforce(rule: string, target: Target, creds: Creds): boolean {
    const node = this.rules.get(rule);
    if (!node) return false;
    return this.evaluate(node, target, creds, [rule]);
  }

  /** Evaluates an ad-hoc check string (compiled once and cached). */
  check(checkString: string, target: Target, creds: Creds): boolean {
    let node = this.adhoc.get(checkString);
    if (!node) {
      node = compile(checkString);
      if (this.adhoc.size > 1000) this.adhoc.clear();
      this.adhoc.set(checkString, node);
    }
    return this.evaluate(node, target, creds, []);
  }

  private evaluate(node: CheckNode, target: Target, creds: Creds, stack: string[]): boolean {
    switch (node.type) {
      case 'true':
        return true;
      case 'false':
        return false;
      case 'not':
        return !this.evaluate(node.rule, target, creds, stack);
      case 'and':
        return node.rules.every((r) => this.evaluate(r, target, creds, stack));
      case 'or':
        return node.rules.some((r) => this.evaluate(r, target, creds, stack));
      case 'rule': {
        const next = this.rules.get(node.match);
        // A rule that refers back to itself can never be satisfied.
        if (!next || stack.includes(node.match)) return false;
        return this.evaluate(next, target, creds, [...stack, node.match]);
      }
      case 'role': {
        const want = interpolate(node.match, target);
        if (want === null) return false;
        const roles = creds.roles;
        if (!Array.isArray(roles)) return false;
        const lower = want.toLowerCase();
        return roles.some((r) => typeof r === 'string' && r.toLowerCase() === lower);
      }
      case 'generic': {
        const match = interpolate(node.match, target);
        if (match === null) return false;
        const lit = literalStr(node.kind);
        if (lit !== null) return match === lit;
        return findInCreds(creds, node.kind.split('.'), match);
      }
    }
  }
}
