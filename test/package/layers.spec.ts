/**
 * The house plan of lib/, checked on every import (static, dynamic and type-only):
 * - a folder of lib/ imports only its own files and folders of a lower layer (LAYERS, top to
 *   bottom); the rooms that stand beside (BESIDE) import only what their row names;
 * - inside the emulator, the same rule over its rooms (EMULATOR_LAYERS), and a room that shares
 *   the client endpoint's upgrade takes only the shared parts of clients/ (CLIENTS_SHARED);
 * - lib/protocol/ and lib/emulator/ (and the command line) import no Nest package;
 * - a folder missing from the tables fails too: a new room says where it stands.
 * The checker itself is shown failing on planted imports (the last block), so a table that
 * allowed everything would not pass.
 */
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { LIB as lib, libSources } from './lib-files.js';

/** The layers of lib/, top to bottom: an import points to its own room or to a lower row. */
const LAYERS: readonly (readonly string[])[] = [
  ['index.ts'],
  ['module'],
  // nestjs-web-pubsub/socket.io reads the module's configuration and builds on its credentials.
  ['gateway', 'socket-io'],
  ['events'],
  ['auth', 'telemetry', 'service-client', 'deduplication'],
  ['config', 'decorators'],
  ['platforms', 'interfaces', 'errors'],
  ['web-pubsub.constants.ts', 'web-pubsub.messages.ts'],
  ['protocol'],
];

/** Rooms beside the layers, each with the only rooms it may import. */
const BESIDE: Readonly<Record<string, readonly string[]>> = {
  emulator: ['protocol'],
  testing: ['protocol'],
  bin: ['emulator', 'protocol'],
};

/** The emulator's rooms, top to bottom (files at its root count as rooms of their own). */
const EMULATOR_LAYERS: readonly (readonly string[])[] = [
  ['index.ts'],
  ['emulator.ts'],
  ['mqtt', 'socket-io'],
  ['clients', 'rest', 'live-view'],
  ['upstream', 'config-file.ts'],
  ['state', 'traffic-log.ts', 'emulator-options.ts', 'http-limits.ts'],
];

/** What of clients/ the other client rooms may use: the shared upgrade, not the JSON endpoint. */
const CLIENTS_SHARED: readonly string[] = ['upgrade.ts', 'session-limits.ts', 'client-token.ts'];

/** Folders of lib/ that may not import Nest. */
const NO_NEST: readonly string[] = ['protocol', 'emulator', 'bin'];

interface Import {
  /** Path under lib/ of the importing file. */
  readonly from: string;
  /** Path under lib/ of the imported file, or a package name. */
  readonly to: string;
}

const SPECIFIER =
  /(?:^|[\s;}])(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const from = relative(lib, file);
  return [...text.matchAll(SPECIFIER)].map(match => {
    const specifier = match[1] ?? match[2] ?? match[3];
    const to = specifier.startsWith('.')
      ? relative(lib, resolve(dirname(file), specifier)).replace(/\.js$/, '.ts')
      : specifier;
    return { from, to };
  });
}

function rank(table: readonly (readonly string[])[], room: string): number {
  return table.findIndex(row => row.includes(room));
}

/** Every broken rule, one line each (empty when the house is in order). */
function problems(imports: readonly Import[]): string[] {
  const found: string[] = [];
  const placed = new Set([...LAYERS.flat(), ...Object.keys(BESIDE)]);
  const emulatorPlaced = new Set(EMULATOR_LAYERS.flat());
  for (const { from, to } of imports) {
    const [room, ...inside] = from.split('/');
    if (!placed.has(room)) found.push(`lib/${room} has no place in LAYERS or BESIDE`);
    if (to.startsWith('@nestjs/')) {
      if (NO_NEST.includes(room)) found.push(`lib/${from} imports ${to} (no Nest in lib/${room})`);
      continue;
    }
    // A package, or a file outside lib/.
    if (to.startsWith('..') || !to.endsWith('.ts')) continue;
    const [target, ...targetInside] = to.split('/');
    if (target === room) {
      if (room === 'emulator') found.push(...emulatorProblem(inside, targetInside, emulatorPlaced));
      continue;
    }
    const allowed = BESIDE[room];
    if (allowed) {
      if (!allowed.includes(target))
        found.push(
          `lib/${from} imports lib/${to} (${room} stands beside: ${allowed.join(', ')} only)`,
        );
      continue;
    }
    if (BESIDE[target] || rank(LAYERS, target) <= rank(LAYERS, room))
      found.push(`lib/${from} imports lib/${to}, which is not below ${room}`);
  }
  return [...new Set(found)];
}

function emulatorProblem(
  from: readonly string[],
  to: readonly string[],
  placed: ReadonlySet<string>,
): string[] {
  const [room] = from;
  const [target] = to;
  const where = `lib/emulator/${from.join('/')} imports lib/emulator/${to.join('/')}`;
  if (!placed.has(room)) return [`lib/emulator/${room} has no place in EMULATOR_LAYERS`];
  if (room === target) return [];
  if (rank(EMULATOR_LAYERS, target) <= rank(EMULATOR_LAYERS, room) && room !== 'emulator.ts')
    return [`${where}, which is not below ${room}`];
  if (target === 'clients' && room !== 'emulator.ts' && room !== 'index.ts') {
    if (!CLIENTS_SHARED.includes(to.slice(1).join('/')))
      return [
        `${where}: other rooms use only the shared parts of clients/ (${CLIENTS_SHARED.join(', ')})`,
      ];
  }
  return [];
}

describe('the layers of lib/', () => {
  const imports = libSources().flatMap(importsOf);

  it('reads the imports of every file (static, dynamic, type-only, re-exports)', () => {
    expect(imports.length).toBeGreaterThan(300);
    expect(imports).toContainEqual({ from: 'index.ts', to: 'module/web-pubsub.module.ts' });
    expect(imports.some(({ to }) => to === 'ioredis')).toBe(true);
  });

  it('has no import from a lower folder to a higher one, and no Nest in protocol/ or emulator/', () => {
    expect(problems(imports)).toEqual([]);
  });

  it('fails on a planted import that runs up, sideways, into Nest, or past a shared part', () => {
    expect(problems([{ from: 'config/route-path.ts', to: 'module/web-pubsub.module.ts' }])).toEqual(
      [
        'lib/config/route-path.ts imports lib/module/web-pubsub.module.ts, which is not below config',
      ],
    );
    expect(problems([{ from: 'auth/a.ts', to: 'telemetry/b.ts' }])).toHaveLength(1);
    expect(problems([{ from: 'protocol/text.ts', to: '@nestjs/common' }])).toEqual([
      'lib/protocol/text.ts imports @nestjs/common (no Nest in lib/protocol)',
    ]);
    expect(problems([{ from: 'emulator/rest/a.ts', to: '@nestjs/core' }])).toHaveLength(1);
    expect(
      problems([{ from: 'protocol/text.ts', to: 'events/web-pubsub.controller.ts' }]),
    ).toHaveLength(1);
    expect(problems([{ from: 'emulator/emulator.ts', to: 'config/route-path.ts' }])).toHaveLength(
      1,
    );
    expect(problems([{ from: 'testing/index.ts', to: 'emulator/index.ts' }])).toHaveLength(1);
    expect(problems([{ from: 'events/a.ts', to: 'testing/index.ts' }])).toHaveLength(1);
    expect(
      problems([{ from: 'emulator/state/hubs.ts', to: 'emulator/upstream/upstream.ts' }]),
    ).toHaveLength(1);
    expect(
      problems([{ from: 'emulator/mqtt/a.ts', to: 'emulator/clients/client-endpoint.ts' }]),
    ).toHaveLength(1);
    expect(problems([{ from: 'emulator/mqtt/a.ts', to: 'emulator/clients/upgrade.ts' }])).toEqual(
      [],
    );
    expect(problems([{ from: 'attic/a.ts', to: 'protocol/text.ts' }])).toEqual([
      'lib/attic has no place in LAYERS or BESIDE',
    ]);
    expect(problems([{ from: 'module/a.ts', to: 'protocol/text.ts' }])).toEqual([]);
  });
});
