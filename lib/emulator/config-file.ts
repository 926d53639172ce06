/**
 * The hub settings file (`--config <file.json>`, `startEmulator({ configFile })`): the `hubs`
 * object with the service's setting names. It is read at start, merged with the hub settings given
 * in code or by `--hub` (their handlers come after the file's), and watched while the emulator
 * runs, as the official emulator reloads its `appsettings.json`: a valid edit replaces the hub
 * settings for the events that follow (connected clients stay connected); an edit that cannot be
 * used (unreadable, not JSON, a bad setting) keeps the last good settings, and the log says why.
 */
import { readFileSync, unwatchFile, watch, watchFile, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { EmulatorOptionsError, validateHubSettings, type HubSettings } from './emulator-options.js';
import { sameHub } from '../protocol/names.js';

export type HubSettingsByName = Record<string, HubSettings>;

/** How long a burst of file events settles before the file is read (editors write in steps). */
export const CONFIG_SETTLE_MS = 50;

/** The hub settings in `text` (the file at `path`). @throws EmulatorOptionsError `<path>: <problem>`. */
export function parseHubSettingsFile(path: string, text: string): HubSettingsByName {
  let hubs: unknown;
  try {
    hubs = JSON.parse(text);
  } catch (error) {
    throw new EmulatorOptionsError(`${path}: not valid JSON (${(error as Error).message})`);
  }
  try {
    validateHubSettings(hubs);
  } catch (error) {
    if (!(error instanceof EmulatorOptionsError)) throw error;
    throw new EmulatorOptionsError(`${path}: ${error.message}`);
  }
  return structuredClone(hubs);
}

/** Reads the file's text. @throws EmulatorOptionsError `<path>: cannot read the file (<why>)`. */
export function readConfigText(
  path: string,
  readFile: (path: string) => string = file => readFileSync(file, 'utf8'),
): string {
  try {
    return readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : (error as Error).message;
    throw new EmulatorOptionsError(`${path}: cannot read the file (${reason})`);
  }
}

/**
 * `extra` on top of `base`: a hub in both (names compared case-insensitively, the base's spelling
 * kept) gets the base's handlers then the extra's, and the extra's `anonymousConnectPolicy` when set.
 */
export function mergeHubSettings(
  base: Readonly<HubSettingsByName>,
  extra: Readonly<HubSettingsByName>,
): HubSettingsByName {
  const merged: HubSettingsByName = { ...base };
  for (const [name, settings] of Object.entries(extra)) {
    const existing = Object.keys(merged).find(hub => sameHub(hub, name));
    if (existing === undefined) {
      merged[name] = settings;
      continue;
    }
    const before = merged[existing];
    merged[existing] = {
      ...before,
      ...(settings.anonymousConnectPolicy === undefined
        ? {}
        : { anonymousConnectPolicy: settings.anonymousConnectPolicy }),
      eventHandlers: [...(before.eventHandlers ?? []), ...(settings.eventHandlers ?? [])],
    };
  }
  return merged;
}

export interface ConfigFileOptions {
  readonly path: string;
  /** Hub settings from code or flags, merged on top of the file's each time it is read. */
  readonly extra: Readonly<HubSettingsByName>;
  readonly log: (line: string) => void;
}

/** The configuration file of a running emulator. */
export class ConfigFile {
  readonly #options: ConfigFileOptions;
  /** The text last read (applied or refused): the same text again is no edit. */
  #lastText: string;
  /** The last problem logged, until an edit is applied. */
  #lastProblem: string | undefined;
  readonly #hubs: HubSettingsByName;
  #watcher: FSWatcher | undefined;
  #polling = false;
  #timer: NodeJS.Timeout | undefined;
  #apply: (hubs: HubSettingsByName) => void = () => undefined;
  #closed = false;

  /** Reads the file once. @throws EmulatorOptionsError when it cannot be used. */
  constructor(options: ConfigFileOptions) {
    this.#options = options;
    this.#lastText = readConfigText(options.path);
    this.#hubs = this.#merge(parseHubSettingsFile(options.path, this.#lastText));
  }

  /** The hub settings at start: the file's, with `extra` merged on top. */
  get hubs(): HubSettingsByName {
    return this.#hubs;
  }

  /**
   * Starts watching, the directory (so that an editor's save by rename is seen) or else by polling;
   * `apply` takes each valid edit.
   */
  watch(apply: (hubs: HubSettingsByName) => void): void {
    this.#apply = apply;
    const { path } = this.#options;
    const name = basename(path);
    try {
      this.#watcher = watch(dirname(path), { persistent: false }, (_event, file) => {
        if (file === null || file === name) this.#changed();
      });
      this.#watcher.on('error', () => this.#poll());
    } catch {
      this.#poll();
    }
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#watcher?.close();
    if (this.#polling) unwatchFile(this.#options.path);
  }

  #poll(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
    if (this.#polling || this.#closed) return;
    this.#polling = true;
    watchFile(this.#options.path, { persistent: false, interval: 500 }, () => this.#changed());
  }

  #changed(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#reload(), CONFIG_SETTLE_MS);
  }

  #reload(): void {
    if (this.#closed) return;
    const { path, log } = this.#options;
    let hubs: HubSettingsByName;
    try {
      const text = readConfigText(path);
      if (text === this.#lastText) return;
      this.#lastText = text;
      hubs = this.#merge(parseHubSettingsFile(path, text));
    } catch (error) {
      if (!(error instanceof EmulatorOptionsError)) throw error;
      // The same problem again (a file that stays unreadable) is not logged twice.
      if (error.message !== this.#lastProblem) {
        this.#lastProblem = error.message;
        log(`config not reloaded, keeping the last good configuration: ${error.message}`);
      }
      return;
    }
    this.#lastProblem = undefined;
    this.#apply(hubs);
    const names = Object.keys(hubs);
    log(`config ${path} reloaded (hubs: ${names.length > 0 ? names.join(', ') : 'none'})`);
  }

  #merge(hubs: HubSettingsByName): HubSettingsByName {
    const merged = mergeHubSettings(hubs, this.#options.extra);
    validateHubSettings(merged);
    return merged;
  }
}
