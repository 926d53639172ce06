/**
 * The OData `filter` of the Web PubSub REST API (reference-odata-filter on Learn), parsed and
 * type-checked once into a `ConnectionPredicate`.
 *
 * - Identifiers `userId`, `connectionId` (strings; `userId` is null for anonymous connections) and
 *   `groups` (a collection). Identifiers, keywords and function names are case-insensitive;
 *   values are compared case-sensitively (use `tolower()` for the opposite).
 * - `eq ne gt ge lt le` (ordinal for strings), `x in ('a', 'b')`, `'g' in groups`, `and or not`,
 *   parentheses; literals `'text'` (`''` escapes a quote), integers, `true`, `false`, `null`.
 * - Functions: tolower toupper trim substring(s, i[, n]) concat indexof contains startswith
 *   endswith length(string | groups).
 * - Precedence, highest first: `in`, `not`, comparisons, `and`, `or`. So `not length(userId) gt 5`
 *   is an error (`not` of an int), as on the service: write `not (length(userId) gt 5)`.
 * - Null propagates through functions; a comparison with null is false except `eq`/`ne` (and
 *   `ge`/`le` of two nulls); `and`/`or`/`not` use three-valued logic; only `true` selects.
 *
 * Every error is an `ODataFilterError` naming the problem and its position (0-based offset).
 */
import type { ConnectionPredicate, ConnectionView } from '../state/hub-operations.js';

/** The service documents trouble beyond about 100 clauses (comparisons, `in`, boolean functions). */
export const MAX_FILTER_CLAUSES = 100;
/** Nesting of parentheses, `not` and function arguments; bounds recursion on hostile input. */
export const MAX_FILTER_DEPTH = 64;

export class ODataFilterError extends Error {
  constructor(
    /** What is wrong, without the position. */
    readonly reason: string,
    /** 0-based offset in the filter text where the problem starts. */
    readonly position: number,
    /**
     * A syntax error (the text does not parse) rather than a type or name error (it parses, but
     * names an unknown identifier or mixes types). The service reports syntax errors first.
     */
    readonly syntax = true,
    /** A fuller explanation for the message, when `reason` is the service's terse wording. */
    hint?: string,
  ) {
    super(`Invalid filter at position ${position}: ${hint ?? reason}`);
    this.name = 'ODataFilterError';
  }
}

const typeError = (reason: string, position: number) =>
  new ODataFilterError(reason, position, false);

/** Parses `filter`; throws `ODataFilterError` when it is not a valid boolean filter. */
export function parseODataFilter(filter: string): ConnectionPredicate {
  const expression = new Parser(filter).parseFilter();
  const evaluate = expression.evaluate;
  return (connection: ConnectionView) => evaluate(connection) === true;
}

// ---------------------------------------------------------------------------------------------
// Tokens

type TokenKind = 'word' | 'string' | 'int' | '(' | ')' | ',' | 'end';

interface Token {
  readonly kind: TokenKind;
  /** Source text for words; the unescaped value for strings. */
  readonly text: string;
  readonly value?: number;
  readonly start: number;
  readonly end: number;
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      i++;
      continue;
    }
    const start = i;
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c, text: c, start, end: ++i });
    } else if (c === "'") {
      let text = '';
      i++;
      for (;;) {
        if (i >= source.length) {
          throw new ODataFilterError(
            "string literal is not closed (a quote inside is written as two quotes: '')",
            start,
          );
        }
        if (source[i] === "'") {
          if (source[i + 1] === "'") {
            text += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        text += source[i++];
      }
      tokens.push({ kind: 'string', text, start, end: i });
    } else if (isDigit(c) || ((c === '-' || c === '+') && isDigit(source[i + 1]))) {
      i++;
      while (isDigit(source[i])) i++;
      if (isWordChar(source[i]) || source[i] === '.') {
        throw new ODataFilterError(
          `${quoteText(source.slice(start, i + 1))} is not an integer (only integer literals are supported)`,
          start,
        );
      }
      const text = source.slice(start, i);
      const value = Number(text);
      if (!Number.isSafeInteger(value)) {
        throw new ODataFilterError(`integer ${text} is out of range`, start);
      }
      tokens.push({ kind: 'int', text, value, start, end: i });
    } else if (isWordStart(c)) {
      while (isWordChar(source[i])) i++;
      tokens.push({ kind: 'word', text: source.slice(start, i), start, end: i });
    } else if ('=<>!&|'.includes(c)) {
      throw new ODataFilterError(
        `unexpected ${quoteText(c)}: OData writes comparisons as eq, ne, gt, ge, lt, le and logic as and, or, not`,
        start,
      );
    } else if (c === '"') {
      throw new ODataFilterError('string literals use single quotes, not double quotes', start);
    } else {
      throw new ODataFilterError(`unexpected character ${quoteText(c)}`, start);
    }
  }
  tokens.push({ kind: 'end', text: '', start: source.length, end: source.length });
  return tokens;
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isWordStart = (c: string | undefined): boolean =>
  c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_');
const isWordChar = (c: string | undefined): boolean => isWordStart(c) || isDigit(c);

function quoteText(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

// ---------------------------------------------------------------------------------------------
// Typed, compiled expressions

type Type = 'string' | 'int' | 'bool' | 'null' | 'collection';
type Value = string | number | boolean | null | ReadonlySet<string>;

interface Expression {
  readonly type: Type;
  readonly start: number;
  readonly end: number;
  readonly evaluate: (connection: ConnectionView) => Value;
}

const TYPE_NAMES: Record<Type, string> = {
  string: 'a string',
  int: 'an integer',
  bool: 'a boolean',
  null: 'null',
  collection: 'a collection',
};

const COMPARISONS = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
const KEYWORDS = new Set([...COMPARISONS, 'and', 'or', 'not', 'in']);
const IDENTIFIERS = 'userId, connectionId or groups';

interface FunctionSignature {
  readonly params: readonly ('string' | 'int' | 'string|collection')[];
  /** How many of `params` are optional at the end. */
  readonly optional?: number;
  readonly returns: Type;
  readonly apply: (args: Value[]) => Value;
}

const str = (value: Value): string => value as string;

/** Keyed by names from the filter: a `Map`, so `constructor` or `__proto__` is just unknown. */
const FUNCTIONS = new Map<string, FunctionSignature>(
  Object.entries({
    tolower: { params: ['string'], returns: 'string', apply: ([s]) => str(s).toLowerCase() },
    toupper: { params: ['string'], returns: 'string', apply: ([s]) => str(s).toUpperCase() },
    trim: { params: ['string'], returns: 'string', apply: ([s]) => str(s).trim() },
    substring: {
      params: ['string', 'int', 'int'],
      optional: 1,
      returns: 'string',
      apply: ([s, from, count]) => {
        const text = str(s);
        const begin = Math.min(Math.max(from as number, 0), text.length);
        return count === undefined
          ? text.slice(begin)
          : text.slice(begin, begin + Math.max(count as number, 0));
      },
    },
    concat: { params: ['string', 'string'], returns: 'string', apply: ([a, b]) => str(a) + str(b) },
    indexof: {
      params: ['string', 'string'],
      returns: 'int',
      apply: ([a, b]) => str(a).indexOf(str(b)),
    },
    contains: {
      params: ['string', 'string'],
      returns: 'bool',
      apply: ([a, b]) => str(a).includes(str(b)),
    },
    startswith: {
      params: ['string', 'string'],
      returns: 'bool',
      apply: ([a, b]) => str(a).startsWith(str(b)),
    },
    endswith: {
      params: ['string', 'string'],
      returns: 'bool',
      apply: ([a, b]) => str(a).endsWith(str(b)),
    },
    length: {
      params: ['string|collection'],
      returns: 'int',
      apply: ([v]) => (typeof v === 'string' ? v.length : (v as ReadonlySet<string>).size),
    },
  } satisfies Record<string, FunctionSignature>),
);

class Parser {
  readonly #source: string;
  readonly #tokens: Token[];
  #index = 0;
  #depth = 0;
  #clauses = 0;
  /** The first unknown identifier, reported after the syntax is checked. */
  #unknownName: ODataFilterError | undefined;

  constructor(source: string) {
    this.#source = source;
    this.#tokens = tokenize(source);
  }

  parseFilter(): Expression {
    if (this.#peek().kind === 'end') {
      throw new ODataFilterError('the filter is empty', 0);
    }
    let expression: Expression;
    try {
      expression = this.#parseOr();
    } catch (error) {
      // A type error after an unknown name may come from the name's stand-in: report the name.
      if (error instanceof ODataFilterError && !error.syntax && this.#unknownName) {
        throw this.#unknownName;
      }
      throw error;
    }
    const next = this.#peek();
    if (next.kind !== 'end') {
      // The service's own words (its OData parser reports the offset after the stray token).
      throw new ODataFilterError(
        `Syntax error at position ${next.end} in '${this.#source}'.`,
        next.start,
        true,
        next.kind === ')'
          ? 'unbalanced ")"'
          : `expected and, or or the end of the filter, found ${this.#describe(next)}`,
      );
    }
    if (this.#unknownName) throw this.#unknownName;
    this.#expectType(expression, 'bool', 'the filter must be a boolean expression');
    return expression;
  }

  // or := and ('or' and)*
  #parseOr(): Expression {
    let left = this.#parseAnd();
    while (this.#isKeyword('or')) {
      this.#index++;
      const right = this.#parseAnd();
      left = this.#logical('or', left, right);
    }
    return left;
  }

  // and := comparison ('and' comparison)*
  #parseAnd(): Expression {
    let left = this.#parseComparison();
    while (this.#isKeyword('and')) {
      this.#index++;
      const right = this.#parseComparison();
      left = this.#logical('and', left, right);
    }
    return left;
  }

  // comparison := unary (op unary)*
  #parseComparison(): Expression {
    let left = this.#parseUnary();
    for (;;) {
      const token = this.#peek();
      const op = token.kind === 'word' ? token.text.toLowerCase() : '';
      if (!COMPARISONS.has(op)) return left;
      this.#index++;
      const right = this.#parseUnary();
      left = this.#comparison(op, left, right, token);
    }
  }

  // unary := 'not' unary | in
  #parseUnary(): Expression {
    const token = this.#peek();
    if (this.#isKeyword('not')) {
      this.#index++;
      const operand = this.#nested(() => this.#parseUnary(), token);
      this.#expectType(
        operand,
        'bool',
        "'not' needs a boolean operand (write not (a eq b) to negate a comparison)",
      );
      const evaluate = operand.evaluate;
      return {
        type: 'bool',
        start: token.start,
        end: operand.end,
        evaluate: c => {
          const value = evaluate(c);
          return value === null ? null : !value;
        },
      };
    }
    return this.#parseIn();
  }

  // in := primary ('in' (list | collection))?
  #parseIn(): Expression {
    const left = this.#parsePrimary();
    if (!this.#isKeyword('in')) return left;
    const inToken = this.#next();
    if (left.type === 'collection' || left.type === 'bool') {
      throw typeError(
        `the left operand of 'in' must be a string, an integer or null; ${this.#text(left)} is ${TYPE_NAMES[left.type]}`,
        left.start,
      );
    }
    this.#countClause(inToken);
    const open = this.#peek();
    if (open.kind !== '(') {
      const right = this.#parsePrimary();
      if (right.type !== 'collection') {
        throw typeError(
          `the right operand of 'in' must be groups or a parenthesized list like ('a', 'b'); found ${this.#text(right)}`,
          right.start,
        );
      }
      return this.#inCollection(left, right);
    }
    this.#index++;
    const items = this.#nested(() => {
      const list: Expression[] = [];
      for (;;) {
        list.push(this.#parseOr());
        const separator = this.#next();
        if (separator.kind === ')') return list;
        if (separator.kind !== ',') {
          throw new ODataFilterError(
            `expected "," or ")" in the list after 'in', found ${this.#describe(separator)}`,
            separator.start,
          );
        }
      }
    }, open);
    const end = this.#tokens[this.#index - 1].end;
    if (items.length === 1 && items[0].type === 'collection') {
      return this.#inCollection(left, { ...items[0], start: open.start, end });
    }
    for (const item of items) {
      if (item.type === 'collection') {
        throw typeError("a list after 'in' holds values, not collections", item.start);
      }
      this.#checkComparable('eq', left, item, inToken);
    }
    const evaluateLeft = left.evaluate;
    const evaluators = items.map(item => item.evaluate);
    return {
      type: 'bool',
      start: left.start,
      end,
      evaluate: c => {
        const value = evaluateLeft(c);
        return evaluators.some(evaluate => evaluate(c) === value);
      },
    };
  }

  #inCollection(left: Expression, right: Expression): Expression {
    if (left.type === 'int') {
      throw typeError(`groups holds strings; ${this.#text(left)} is an integer`, left.start);
    }
    const evaluateLeft = left.evaluate;
    const evaluateRight = right.evaluate;
    return {
      type: 'bool',
      start: left.start,
      end: right.end,
      evaluate: c => {
        const value = evaluateLeft(c);
        return typeof value === 'string' && (evaluateRight(c) as ReadonlySet<string>).has(value);
      },
    };
  }

  // primary := '(' or ')' | literal | identifier | function '(' args ')'
  #parsePrimary(): Expression {
    const token = this.#next();
    switch (token.kind) {
      case 'string': {
        const value = token.text;
        return { type: 'string', start: token.start, end: token.end, evaluate: () => value };
      }
      case 'int': {
        const value = token.value as number;
        return { type: 'int', start: token.start, end: token.end, evaluate: () => value };
      }
      case '(': {
        const inner = this.#nested(() => this.#parseOr(), token);
        const close = this.#next();
        if (close.kind !== ')') {
          throw new ODataFilterError(
            close.kind === 'end'
              ? `the "(" at position ${token.start} is not closed`
              : `expected ")", found ${this.#describe(close)}`,
            close.start,
          );
        }
        return { ...inner, start: token.start, end: close.end };
      }
      case 'word':
        return this.#parseWord(token);
      case 'end':
        throw new ODataFilterError('the filter ends where a value was expected', token.start);
      default:
        throw new ODataFilterError(`expected a value, found ${this.#describe(token)}`, token.start);
    }
  }

  #parseWord(token: Token): Expression {
    const name = token.text.toLowerCase();
    const { start, end } = token;
    if (this.#peek().kind === '(') {
      return this.#parseCall(token);
    }
    switch (name) {
      case 'userid':
        return { type: 'string', start, end, evaluate: c => c.userId ?? null };
      case 'connectionid':
        return { type: 'string', start, end, evaluate: c => c.connectionId };
      case 'groups':
        return { type: 'collection', start, end, evaluate: c => c.groups };
      case 'true':
        return { type: 'bool', start, end, evaluate: () => true };
      case 'false':
        return { type: 'bool', start, end, evaluate: () => false };
      case 'null':
        return { type: 'null', start, end, evaluate: () => null };
    }
    if (KEYWORDS.has(name)) {
      throw new ODataFilterError(
        `expected a value, found the operator ${quoteText(token.text)}`,
        start,
      );
    }
    if (FUNCTIONS.has(name)) {
      throw new ODataFilterError(`function ${token.text} needs its arguments in parentheses`, end);
    }
    // Reported once the whole filter has parsed: a syntax error later in the text comes first,
    // as on the service. Meanwhile the name stands for null, which any operator accepts.
    this.#unknownName ??= typeError(
      `unknown identifier ${quoteText(token.text)}; expected ${IDENTIFIERS}`,
      start,
    );
    return { type: 'null', start, end, evaluate: () => null };
  }

  #parseCall(nameToken: Token): Expression {
    const name = nameToken.text.toLowerCase();
    const signature = FUNCTIONS.get(name);
    if (!signature) {
      throw typeError(
        `unknown function ${quoteText(nameToken.text)}; supported: ${[...FUNCTIONS.keys()].join(', ')}`,
        nameToken.start,
      );
    }
    const open = this.#next();
    const args = this.#nested(() => {
      const list: Expression[] = [];
      if (this.#peek().kind === ')') {
        this.#index++;
        return list;
      }
      for (;;) {
        list.push(this.#parseOr());
        const separator = this.#next();
        if (separator.kind === ')') return list;
        if (separator.kind !== ',') {
          throw new ODataFilterError(
            separator.kind === 'end'
              ? `the "(" of ${name}() at position ${open.start} is not closed`
              : `expected "," or ")" in the arguments of ${name}(), found ${this.#describe(separator)}`,
            separator.start,
          );
        }
      }
    }, open);
    const end = this.#tokens[this.#index - 1].end;
    const max = signature.params.length;
    const min = max - (signature.optional ?? 0);
    if (args.length < min || args.length > max) {
      const expected = min === max ? `${min}` : `${min} or ${max}`;
      throw typeError(
        `${name}() takes ${expected} argument${max === 1 ? '' : 's'}, got ${args.length}`,
        nameToken.start,
      );
    }
    args.forEach((arg, i) => {
      const param = signature.params[i];
      const ok =
        arg.type === 'null' ||
        arg.type === param ||
        (param === 'string|collection' && (arg.type === 'string' || arg.type === 'collection'));
      if (!ok) {
        const wanted = param === 'string|collection' ? 'a string or groups' : TYPE_NAMES[param];
        throw typeError(
          `argument ${i + 1} of ${name}() must be ${wanted}; ${this.#text(arg)} is ${TYPE_NAMES[arg.type]}`,
          arg.start,
        );
      }
    });
    if (signature.returns === 'bool') this.#countClause(nameToken);
    const evaluators = args.map(arg => arg.evaluate);
    const apply = signature.apply;
    return {
      type: signature.returns,
      start: nameToken.start,
      end,
      evaluate: c => {
        const values = evaluators.map(evaluate => evaluate(c));
        return values.includes(null) ? null : apply(values);
      },
    };
  }

  #logical(op: 'and' | 'or', left: Expression, right: Expression): Expression {
    this.#expectType(left, 'bool', `'${op}' needs boolean operands`);
    this.#expectType(right, 'bool', `'${op}' needs boolean operands`);
    const a = left.evaluate;
    const b = right.evaluate;
    const evaluate =
      op === 'and'
        ? (c: ConnectionView): Value => {
            const x = a(c);
            if (x === false) return false;
            const y = b(c);
            if (y === false) return false;
            return x === true && y === true ? true : null;
          }
        : (c: ConnectionView): Value => {
            const x = a(c);
            if (x === true) return true;
            const y = b(c);
            if (y === true) return true;
            return x === false && y === false ? false : null;
          };
    return { type: 'bool', start: left.start, end: right.end, evaluate };
  }

  #comparison(op: string, left: Expression, right: Expression, token: Token): Expression {
    this.#checkComparable(op, left, right, token);
    this.#countClause(token);
    const a = left.evaluate;
    const b = right.evaluate;
    const compare = COMPARE.get(op) as Compare;
    return { type: 'bool', start: left.start, end: right.end, evaluate: c => compare(a(c), b(c)) };
  }

  #checkComparable(op: string, left: Expression, right: Expression, token: Token): void {
    for (const side of [left, right]) {
      if (side.type === 'collection') {
        throw typeError(
          `${this.#text(side)} is a collection and cannot be compared; use 'name' in groups or length(groups)`,
          side.start,
        );
      }
    }
    if (left.type === 'null' || right.type === 'null') return;
    if (left.type !== right.type) {
      throw typeError(
        `cannot compare ${TYPE_NAMES[left.type]} (${this.#text(left)}) with ${TYPE_NAMES[right.type]} (${this.#text(right)})`,
        token.start,
      );
    }
    if (left.type === 'bool' && op !== 'eq' && op !== 'ne') {
      throw typeError(`booleans can only be compared with eq or ne, not ${op}`, token.start);
    }
  }

  #expectType(expression: Expression, type: Type, message: string): void {
    if (expression.type !== type) {
      throw typeError(
        `${message}; ${this.#text(expression)} is ${TYPE_NAMES[expression.type]}`,
        expression.start,
      );
    }
  }

  #countClause(token: Token): void {
    if (++this.#clauses > MAX_FILTER_CLAUSES) {
      throw new ODataFilterError(
        `the filter has more than ${MAX_FILTER_CLAUSES} clauses`,
        token.start,
      );
    }
  }

  #nested<T>(parse: () => T, token: Token): T {
    if (++this.#depth > MAX_FILTER_DEPTH) {
      throw new ODataFilterError(
        `the filter nests deeper than ${MAX_FILTER_DEPTH} levels`,
        token.start,
      );
    }
    try {
      return parse();
    } finally {
      this.#depth--;
    }
  }

  #isKeyword(keyword: string): boolean {
    const token = this.#peek();
    return token.kind === 'word' && token.text.toLowerCase() === keyword;
  }

  #peek(): Token {
    return this.#tokens[this.#index];
  }

  #next(): Token {
    const token = this.#tokens[this.#index];
    if (token.kind !== 'end') this.#index++;
    return token;
  }

  #text(expression: Expression): string {
    return quoteText(this.#source.slice(expression.start, expression.end));
  }

  #describe(token: Token): string {
    switch (token.kind) {
      case 'end':
        return 'the end of the filter';
      case 'string':
        return `the string ${quoteText(this.#source.slice(token.start, token.end))}`;
      default:
        return quoteText(token.text);
    }
  }
}

type Compare = (a: Value, b: Value) => Value;

/** OData semantics: eq/ne treat null as a value; ordering with one null is false, with two nulls ge/le hold. */
const COMPARE = new Map<string, Compare>(
  Object.entries({
    eq: (a, b) => a === b,
    ne: (a, b) => a !== b,
    gt: (a, b) => a !== null && b !== null && (a as string | number) > (b as string | number),
    ge: (a, b) =>
      a === null || b === null ? a === b : (a as string | number) >= (b as string | number),
    lt: (a, b) => a !== null && b !== null && (a as string | number) < (b as string | number),
    le: (a, b) =>
      a === null || b === null ? a === b : (a as string | number) <= (b as string | number),
  } satisfies Record<string, Compare>),
);
