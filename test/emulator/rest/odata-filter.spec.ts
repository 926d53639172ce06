/**
 * The OData filter grammar of the REST data plane (`parseODataFilter`): the 20 examples of the
 * service's filter reference select the expected sample connections; 31 more cover every operator
 * and function, ordinal comparisons, clamped `substring`, three-valued `null`, the SDK's `odata`
 * tag, case-insensitive names, tabs and new lines; 35 bad filters are refused with the exact
 * position and a message naming the problem (`not length(userId) gt 5` among them), stray tokens as
 * the service words them, an unknown name after the syntax is checked; 100 clauses pass and 101
 * fail; 64 levels of nesting pass and 65 (or 100,000 `not`s, or 1,000,000 parentheses) fail without
 * a stack overflow; long fragments are quoted cut short. Two `fast-check` properties (2,000 runs
 * each; `FUZZ_RUNS` raises them): the parser agrees with a direct interpreter on generated trees
 * printed with only the parentheses precedence needs, and arbitrary text yields a predicate or an
 * `ODataFilterError` with a position inside the text.
 *
 * Broken on purpose: breaking `not null` or the and/or precedence fails the first property.
 */
import fc from 'fast-check';
import { odata } from '@azure/web-pubsub';
import type { ConnectionView } from '../../../lib/emulator/state/hub-operations.js';
import {
  MAX_FILTER_CLAUSES,
  MAX_FILTER_DEPTH,
  ODataFilterError,
  parseODataFilter,
} from '../../../lib/emulator/rest/odata-filter.js';

const conn = (
  connectionId: string,
  userId: string | undefined,
  groups: string[] = [],
): ConnectionView => ({
  connectionId,
  userId,
  groups: new Set(groups),
});

/** Sample connections; filters below are checked by which of them they select. */
const SAMPLE: ConnectionView[] = [
  conn('c1', 'user1', ['group1']),
  conn('c2', 'user2', ['group1', 'group2']),
  conn('c3', "user'1", []),
  conn('c4', undefined, ['group2']),
  conn('c5', 'USER1', ['group3']),
  conn('c6', ' user1 ', []),
  conn('c7', 'user-ab-de', ['group1', 'group2', 'group3']),
];

const select = (filter: string): string[] => {
  const predicate = parseODataFilter(filter);
  return SAMPLE.filter(predicate).map(c => c.connectionId);
};

const errorOf = (filter: string): ODataFilterError => {
  try {
    parseODataFilter(filter);
  } catch (error) {
    expect(error).toBeInstanceOf(ODataFilterError);
    return error as ODataFilterError;
  }
  throw new Error(`filter ${JSON.stringify(filter)} was accepted`);
};

describe('parseODataFilter: the examples of the reference', () => {
  it.each([
    [
      "'group1' in groups or 'group2' in groups or 'group3' in groups",
      ['c1', 'c2', 'c4', 'c5', 'c7'],
    ],
    ["userId in ('user1', 'user2', 'user3') and 'group1' in groups", ['c1', 'c2']],
    ["userId eq 'user1' and connectionId ne '123'", ['c1']],
    ["userId eq 'user1' and (not ('group1' in groups))", []],
    ["userId eq 'user''1'", ['c3']],
    ['length(userId) le 10 and length(userId) gt 5', ['c3', 'c6', 'c7']],
    ['length(userId) gt 10 or length(userId) le 5', ['c1', 'c2', 'c5']],
    ["not endswith(userId, 'milk')", ['c1', 'c2', 'c3', 'c5', 'c6', 'c7']],
    ['userId eq null', ['c4']],
    ['userId ne null', ['c1', 'c2', 'c3', 'c5', 'c6', 'c7']],
    ["userId eq 'user1' or (not (startswith(userId,'user2')))", ['c1', 'c3', 'c5', 'c6', 'c7']],
    ["tolower(userId) eq 'user1'", ['c1', 'c5']],
    ["toupper(userId) eq 'USER1'", ['c1', 'c5']],
    ["trim(userId) eq 'user1'", ['c1', 'c6']],
    ["substring(userId,5,2) eq 'ab'", ['c7']],
    ["endswith(userId,'de')", ['c7']],
    ["startswith(userId,'user')", ['c1', 'c2', 'c3', 'c7']],
    ["indexof(userId,'-ab-') ge 0", ['c7']],
    ['length(userId) gt 1', ['c1', 'c2', 'c3', 'c5', 'c6', 'c7']],
    ['length(groups) gt 1', ['c2', 'c7']],
  ])('%s', (filter, expected) => {
    expect(select(filter)).toEqual(expected);
  });
});

describe('parseODataFilter: operators and functions', () => {
  it.each([
    // Comparisons are ordinal (UTF-16 code units) and case-sensitive: ' ' < "'" < '-' < '1' < 'U' < 'u'.
    ["userId gt 'user1'", ['c2']],
    ["userId ge 'user2'", ['c2']],
    ["userId lt 'user1'", ['c3', 'c5', 'c6', 'c7']],
    ["userId le 'USER1'", ['c5', 'c6']],
    ["connectionId eq 'c3'", ['c3']],
    ["contains(userId, 'ab')", ['c7']],
    ["concat(userId, '!') eq 'user1!'", ['c1']],
    ["concat(concat('<', connectionId), '>') eq '<c4>'", ['c4']],
    ["substring(userId, 4) eq '1'", ['c1', 'c5']],
    // Out-of-range indexes are clamped rather than failing.
    ["substring(connectionId, 10) eq ''", ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7']],
    ["substring(connectionId, -3, 1) eq 'c'", ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7']],
    ["indexof(userId, 'zzz') eq -1", ['c1', 'c2', 'c3', 'c5', 'c6', 'c7']],
    ['length(groups) eq 0', ['c3', 'c6']],
    ['length(groups) eq +3', ['c7']],
    ["connectionId in ('c1', 'c9', 'c2')", ['c1', 'c2']],
    ["userId in ('nobody', null)", ['c4']],
    ['userId in groups', []],
    ["'group2' in (groups)", ['c2', 'c4', 'c7']],
    ["not 'group1' in groups", ['c3', 'c4', 'c5', 'c6']],
    ['true', ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7']],
    ['false', []],
    ['(true) eq (1 eq 1)', ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7']],
    ["(userId eq 'user1') ne true", ['c2', 'c3', 'c4', 'c5', 'c6', 'c7']],
    ['3 gt 2 and 2 ge 2 and 1 lt 2 and 2 le 2', ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7']],
    // Precedence: and binds tighter than or; parentheses override.
    ["connectionId eq 'c1' or connectionId eq 'c2' and userId eq 'nobody'", ['c1']],
    ["(connectionId eq 'c1' or connectionId eq 'c2') and userId eq 'user2'", ['c2']],
    // Case-insensitive identifiers, keywords and functions.
    ["USERID EQ 'user1' OR ConnectionId Eq 'c2' AND NOT ('x' IN Groups)", ['c1', 'c2']],
    ["ToLower(UserId) eq 'user1'", ['c1', 'c5']],
  ])('%s', (filter, expected) => {
    expect(select(filter)).toEqual(expected);
  });

  it('treats a null userId with three-valued logic: only true selects', () => {
    const anonymous = [conn('a', undefined)];
    const run = (filter: string) => anonymous.filter(parseODataFilter(filter)).length;
    expect(run("startswith(userId, 'u')")).toBe(0);
    expect(run("not startswith(userId, 'u')")).toBe(0); // not null is null
    expect(run("not startswith(userId, 'u') or true")).toBe(1);
    expect(run("startswith(userId, 'u') and false")).toBe(0);
    expect(run('length(userId) eq null')).toBe(1);
    expect(run("tolower(userId) eq null and concat(userId, 'x') eq null")).toBe(1);
    expect(run("userId gt 'a' or userId lt 'a'")).toBe(0);
    expect(run('userId ge null and userId le null')).toBe(1);
    expect(run("userId ge 'a'")).toBe(0);
  });

  it('accepts filters written with the SDK odata tag (quotes doubled, null written as null)', () => {
    const name = "user'1";
    const filter = odata`userId eq ${name} or userId eq ${null}`;
    expect(filter).toBe("userId eq 'user''1' or userId eq null");
    expect(select(filter)).toEqual(['c3', 'c4']);
  });

  it('tolerates tabs and new lines between tokens', () => {
    expect(select("userId\teq\n'user1'\r\n")).toEqual(['c1']);
  });
});

describe('parseODataFilter: refusals name the problem and its position', () => {
  it.each([
    ['', 0, 'the filter is empty'],
    ['   ', 0, 'the filter is empty'],
    // The reference's own example: not binds tighter than comparisons.
    ['not length(userId) gt 5', 4, "'not' needs a boolean operand"],
    ['not userId eq null', 4, "'not' needs a boolean operand"],
    ["userId eq 'abc", 10, 'string literal is not closed'],
    ['userId eq "abc"', 10, 'single quotes'],
    ["userId == 'a'", 7, 'eq, ne, gt, ge, lt, le'],
    ["userId eqq 'a'", 7, 'expected and, or or the end of the filter, found "eqq"'],
    ["user eq 'a'", 0, 'unknown identifier "user"; expected userId, connectionId or groups'],
    ["foo(userId) eq 'a'", 0, 'unknown function "foo"'],
    ["tolower(userId, 'x') eq 'a'", 0, 'tolower() takes 1 argument, got 2'],
    ["substring(userId) eq 'a'", 0, 'substring() takes 2 or 3 arguments, got 1'],
    ["substring(userId, 'x') eq 'a'", 18, 'argument 2 of substring() must be an integer'],
    ['tolower(5) eq 5', 8, 'argument 1 of tolower() must be a string; "5" is an integer'],
    ['length(true) eq 1', 7, 'must be a string or groups'],
    ['userId eq 5', 7, 'cannot compare a string ("userId") with an integer ("5")'],
    ["groups eq 'a'", 0, '"groups" is a collection and cannot be compared'],
    ["'a' in userId", 7, "the right operand of 'in' must be groups or a parenthesized list"],
    ['5 in groups', 0, 'groups holds strings; "5" is an integer'],
    ["userId in ('a', 1)", 7, 'cannot compare a string ("userId") with an integer ("1")'],
    ["userId in ('a' 'b')", 15, 'expected "," or ")" in the list after \'in\''],
    ["userId eq 'a' and", 17, 'the filter ends where a value was expected'],
    ["(userId eq 'a'", 14, 'the "(" at position 0 is not closed'],
    ["userId eq 'a')", 13, 'unbalanced ")"'],
    ['userId', 0, 'the filter must be a boolean expression; "userId" is a string'],
    ['length(userId)', 0, 'must be a boolean expression; "length(userId)" is an integer'],
    ["userId eq 'a' and 'b'", 18, "'and' needs boolean operands; \"'b'\" is a string"],
    ['true gt false', 5, 'booleans can only be compared with eq or ne'],
    ['userId eq 1.5', 10, 'is not an integer'],
    ['length(userId) gt 99999999999999999999', 18, 'out of range'],
    ["userId eq 'a' # x", 14, 'unexpected character "#"'],
    ['eq eq 1', 0, 'expected a value, found the operator "eq"'],
    ["tolower eq 'a'", 7, 'function tolower needs its arguments in parentheses'],
    ["contains(userId, 'a'", 20, 'the "(" of contains() at position 8 is not closed'],
  ])('%j at %d: %s', (filter, position, message) => {
    const error = errorOf(filter);
    expect(error.position).toBe(position);
    expect(error.message).toContain(`Invalid filter at position ${position}: `);
    expect(error.message).toContain(message);
  });

  it.each([
    // The service's recorded answer to "invalid filter" (a name it does not know, then a stray word).
    ['invalid filter', 8, "Syntax error at position 14 in 'invalid filter'."],
    ["userId eq 'a' foo", 14, "Syntax error at position 17 in 'userId eq 'a' foo'."],
    ["userId eq 'a')", 13, "Syntax error at position 14 in 'userId eq 'a')'."],
  ])('reports a stray token as the service words it: %j', (filter, position, reason) => {
    const error = errorOf(filter);
    expect([error.reason, error.position, error.syntax]).toEqual([reason, position, true]);
  });

  it('reports an unknown name after the syntax is checked, before the type errors its stand-in causes', () => {
    expect(errorOf("nobody eq 'a' and (").syntax).toBe(true);
    for (const filter of ["nobody eq 'a'", 'not nobody', "nobody and userId eq 'a'"]) {
      const error = errorOf(filter);
      expect([error.reason, error.position, error.syntax]).toEqual([
        'unknown identifier "nobody"; expected userId, connectionId or groups',
        filter.indexOf('nobody'),
        false,
      ]);
    }
  });

  it(`refuses more than ${MAX_FILTER_CLAUSES} clauses and accepts exactly that many`, () => {
    const clauses = (n: number) =>
      Array.from({ length: n }, (_, i) => `userId eq 'u${i}'`).join(' or ');
    expect(select(clauses(MAX_FILTER_CLAUSES))).toEqual([]);
    const error = errorOf(clauses(MAX_FILTER_CLAUSES + 1));
    expect(error.message).toContain(`more than ${MAX_FILTER_CLAUSES} clauses`);
    // Points at the 101st comparison operator.
    expect(error.position).toBe(clauses(MAX_FILTER_CLAUSES).length + ' or userId '.length);
  });

  it(`refuses nesting deeper than ${MAX_FILTER_DEPTH} levels without overflowing the stack`, () => {
    const nested = (n: number) => `${'('.repeat(n)}true${')'.repeat(n)}`;
    expect(select(nested(MAX_FILTER_DEPTH))).toHaveLength(SAMPLE.length);
    expect(errorOf(nested(MAX_FILTER_DEPTH + 1)).message).toContain(
      `deeper than ${MAX_FILTER_DEPTH} levels`,
    );
    expect(errorOf(`${'not '.repeat(100_000)}true`).message).toContain('deeper than');
    expect(errorOf(nested(1_000_000)).position).toBe(MAX_FILTER_DEPTH);
  });

  it('quotes long fragments cut short', () => {
    const error = errorOf(`userId eq ${'1'.repeat(500)}x`);
    expect(error.message.length).toBeLessThan(200);
  });
});

// ---------------------------------------------------------------------------------------------
// Property: the parser agrees with a direct interpreter of the same tree, printed with only the
// parentheses precedence needs (plus random redundant ones).

type BoolNode =
  | { k: 'cmp'; op: 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le'; a: StrNode; b: StrNode }
  | { k: 'icmp'; op: 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le'; a: IntNode; b: IntNode }
  | { k: 'inGroups'; a: StrNode }
  | { k: 'inList'; a: StrNode; list: (string | null)[] }
  | { k: 'fn'; name: 'contains' | 'startswith' | 'endswith'; a: StrNode; b: StrNode }
  | { k: 'lit'; v: boolean }
  | { k: 'not'; a: BoolNode }
  | { k: 'and' | 'or'; a: BoolNode; b: BoolNode };
type StrNode =
  | { k: 'userId' | 'connectionId' }
  | { k: 'str'; v: string }
  | { k: 'null' }
  | { k: 'tolower' | 'toupper' | 'trim'; a: StrNode }
  | { k: 'concat'; a: StrNode; b: StrNode };
type IntNode = { k: 'int'; v: number } | { k: 'length'; a: StrNode } | { k: 'glength' };

const values = ['u', 'U', 'u1', "o'k", ' x ', '', 'g1', 'c1'];
const ops = ['eq', 'ne', 'gt', 'ge', 'lt', 'le'] as const;

const { bool: boolArb } = fc.letrec<{ bool: BoolNode; str: StrNode; int: IntNode }>(tie => ({
  str: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom<StrNode>({ k: 'userId' }, { k: 'connectionId' }, { k: 'null' }),
    fc.constantFrom(...values).map((v): StrNode => ({ k: 'str', v })),
    fc
      .record({
        k: fc.constantFrom('tolower' as const, 'toupper' as const, 'trim' as const),
        a: tie('str'),
      })
      .map(n => n as StrNode),
    fc
      .record({ k: fc.constant('concat' as const), a: tie('str'), b: tie('str') })
      .map(n => n as StrNode),
  ),
  int: fc.oneof(
    fc.integer({ min: -2, max: 6 }).map((v): IntNode => ({ k: 'int', v })),
    tie('str').map(a => ({ k: 'length', a }) as IntNode),
    fc.constant<IntNode>({ k: 'glength' }),
  ),
  bool: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc
      .record({
        k: fc.constant('cmp' as const),
        op: fc.constantFrom(...ops),
        a: tie('str'),
        b: tie('str'),
      })
      .map(n => n as BoolNode),
    fc
      .record({
        k: fc.constant('icmp' as const),
        op: fc.constantFrom(...ops),
        a: tie('int'),
        b: tie('int'),
      })
      .map(n => n as BoolNode),
    fc.record({ k: fc.constant('inGroups' as const), a: tie('str') }).map(n => n as BoolNode),
    fc
      .record({
        k: fc.constant('inList' as const),
        a: tie('str'),
        list: fc.array(fc.option(fc.constantFrom(...values), { nil: null }), {
          minLength: 1,
          maxLength: 3,
        }),
      })
      .map(n => n as BoolNode),
    fc
      .record({
        k: fc.constant('fn' as const),
        name: fc.constantFrom('contains' as const, 'startswith' as const, 'endswith' as const),
        a: tie('str'),
        b: tie('str'),
      })
      .map(n => n as BoolNode),
    fc.boolean().map((v): BoolNode => ({ k: 'lit', v })),
    fc.record({ k: fc.constant('not' as const), a: tie('bool') }).map(n => n as BoolNode),
    fc
      .record({ k: fc.constantFrom('and' as const, 'or' as const), a: tie('bool'), b: tie('bool') })
      .map(n => n as BoolNode),
  ),
}));

const lit = (v: string) => `'${v.replace(/'/g, "''")}'`;
const printStr = (n: StrNode): string => {
  switch (n.k) {
    case 'userId':
    case 'connectionId':
      return n.k;
    case 'str':
      return lit(n.v);
    case 'null':
      return 'null';
    case 'concat':
      return `concat(${printStr(n.a)}, ${printStr(n.b)})`;
    default:
      return `${n.k}(${printStr(n.a)})`;
  }
};
const printInt = (n: IntNode): string =>
  n.k === 'int' ? String(n.v) : n.k === 'glength' ? 'length(groups)' : `length(${printStr(n.a)})`;

/** Precedence levels: or 1, and 2, comparison 3, not 4, in / primary 5. */
const level = (n: BoolNode): number =>
  ({ or: 1, and: 2, cmp: 3, icmp: 3, not: 4 })[n.k as string] ?? 5;
const print = (n: BoolNode, min: number, extra: () => boolean): string => {
  const text = printBare(n, extra);
  return level(n) < min || extra() ? `(${text})` : text;
};
const printBare = (n: BoolNode, extra: () => boolean): string => {
  switch (n.k) {
    case 'cmp':
      return `${printStr(n.a)} ${n.op} ${printStr(n.b)}`;
    case 'icmp':
      return `${printInt(n.a)} ${n.op} ${printInt(n.b)}`;
    case 'inGroups':
      return `${printStr(n.a)} in groups`;
    case 'inList':
      return `${printStr(n.a)} in (${n.list.map(v => (v === null ? 'null' : lit(v))).join(', ')})`;
    case 'fn':
      return `${n.name}(${printStr(n.a)}, ${printStr(n.b)})`;
    case 'lit':
      return String(n.v);
    case 'not':
      return `not ${print(n.a, 4, extra)}`;
    // Left-associative: the right operand of a chain needs parentheses at its own level.
    case 'and':
      return `${print(n.a, 2, extra)} and ${print(n.b, 3, extra)}`;
    case 'or':
      return `${print(n.a, 1, extra)} or ${print(n.b, 2, extra)}`;
  }
};

type V = string | number | boolean | null;
const evalStr = (n: StrNode, c: ConnectionView): string | null => {
  switch (n.k) {
    case 'userId':
      return c.userId ?? null;
    case 'connectionId':
      return c.connectionId;
    case 'str':
      return n.v;
    case 'null':
      return null;
    case 'concat': {
      const a = evalStr(n.a, c);
      const b = evalStr(n.b, c);
      return a === null || b === null ? null : a + b;
    }
    default: {
      const a = evalStr(n.a, c);
      if (a === null) return null;
      return n.k === 'tolower' ? a.toLowerCase() : n.k === 'toupper' ? a.toUpperCase() : a.trim();
    }
  }
};
const evalInt = (n: IntNode, c: ConnectionView): number | null => {
  if (n.k === 'int') return n.v;
  if (n.k === 'glength') return c.groups.size;
  const a = evalStr(n.a, c);
  return a === null ? null : a.length;
};
const cmp = (op: string, a: V, b: V): boolean => {
  if (op === 'eq') return a === b;
  if (op === 'ne') return a !== b;
  if (a === null || b === null) return (op === 'ge' || op === 'le') && a === b;
  return op === 'gt' ? a > b : op === 'ge' ? a >= b : op === 'lt' ? a < b : a <= b;
};
const evalBool = (n: BoolNode, c: ConnectionView): boolean | null => {
  switch (n.k) {
    case 'cmp':
      return cmp(n.op, evalStr(n.a, c), evalStr(n.b, c));
    case 'icmp':
      return cmp(n.op, evalInt(n.a, c), evalInt(n.b, c));
    case 'inGroups': {
      const a = evalStr(n.a, c);
      return a !== null && c.groups.has(a);
    }
    case 'inList':
      return n.list.includes(evalStr(n.a, c));
    case 'fn': {
      const a = evalStr(n.a, c);
      const b = evalStr(n.b, c);
      if (a === null || b === null) return null;
      return n.name === 'contains'
        ? a.includes(b)
        : n.name === 'startswith'
          ? a.startsWith(b)
          : a.endsWith(b);
    }
    case 'lit':
      return n.v;
    case 'not': {
      const a = evalBool(n.a, c);
      return a === null ? null : !a;
    }
    case 'and': {
      const a = evalBool(n.a, c);
      const b = evalBool(n.b, c);
      return a === false || b === false ? false : a === true && b === true ? true : null;
    }
    case 'or': {
      const a = evalBool(n.a, c);
      const b = evalBool(n.b, c);
      return a === true || b === true ? true : a === false && b === false ? false : null;
    }
  }
};

const connectionArb = fc.record({
  connectionId: fc.constantFrom('c1', 'c2', 'U'),
  userId: fc.option(fc.constantFrom(...values), { nil: undefined }),
  groups: fc.subarray(['g1', 'u', 'U', 'c1']).map(g => new Set(g) as ReadonlySet<string>),
});

describe('parseODataFilter: property against a reference interpreter', () => {
  it('selects exactly the connections the interpreter says are true', () => {
    fc.assert(
      fc.property(
        boolArb,
        fc.array(connectionArb, { minLength: 1, maxLength: 5 }),
        fc.infiniteStream(fc.boolean()),
        (tree, connections, coins) => {
          const iterator = coins[Symbol.iterator]();
          // Redundant parentheses about one time in eight.
          const extra = () =>
            iterator.next().value && iterator.next().value && iterator.next().value;
          const filter = print(tree, 1, extra);
          let predicate;
          try {
            predicate = parseODataFilter(filter);
          } catch (error) {
            // Only the size limits may refuse a generated tree.
            expect((error as Error).message).toMatch(/clauses|levels/);
            return;
          }
          for (const connection of connections) {
            expect([filter, predicate(connection)]).toEqual([
              filter,
              evalBool(tree, connection) === true,
            ]);
          }
        },
      ),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 2000) },
    );
  });

  it('never throws anything but ODataFilterError on arbitrary text', () => {
    const alphabet = fc.constantFrom(
      ..."userId eq ne and or not in groups ( ) , ' '' 1 -2 true null tolower length".split(' '),
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.array(alphabet, { maxLength: 30 }).map(parts => parts.join(' ')),
        ),
        text => {
          try {
            const predicate = parseODataFilter(text);
            for (const c of SAMPLE) expect(typeof predicate(c)).toBe('boolean');
          } catch (error) {
            expect(error).toBeInstanceOf(ODataFilterError);
            const { position } = error as ODataFilterError;
            expect(position).toBeGreaterThanOrEqual(0);
            expect(position).toBeLessThanOrEqual(text.length);
          }
        },
      ),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 2000) },
    );
  });
});
