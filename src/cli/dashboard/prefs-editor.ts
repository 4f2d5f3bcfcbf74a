/**
 * The preferences editor's I/O (Enter on a Users row): one user's `prefs:<id>` read from Redis into
 * the editor's grid, and each space written back at once through the one parser per field
 * (src/domain/preference-fields.ts), then read again. The consumer reads preferences per chunk, so
 * the next event follows the write: nothing to invalidate. Writes run one at a time, in the order
 * pressed, each from what the previous one left.
 */
import type { Pipeline } from '../../app/runtime.js';
import { prefsKey } from '../../adapters/redis/keys.js';
import { isWrongType } from '../../adapters/redis/store.js';
import type { Catalog } from '../../domain/catalog.js';
import { digestible, parsePreferenceField, parsePreferenceValue } from '../../domain/preference-fields.js';
import { localLabel, quietHoursText, quietState } from '../../domain/quiet-hours.js';
import {
  capsAndDigestsText,
  parsePreferences,
  parseRules,
  typeChoice,
  typeDefault,
  type TypeChoice,
} from '../../domain/rules.js';
import { clockNow } from '../../pipeline/clock.js';
import { bound, KEPT_LENGTH } from '../../text/bound.js';
import { sanitize } from '../../text/sanitize.js';
import {
  CAP_STEPS,
  capsRowOf,
  DIGEST_STEPS,
  emptyPrefsEditor,
  selectedUser,
  type DashboardStore,
  type PrefsEditor,
} from '../../ui/store.js';
import type { Notify } from './view-state.js';

/** What the editor shows of a raw `prefs:<id>` hash, at the instant `now` (the pipeline's clock). */
export function editorModel(
  raw: Record<string, string>,
  catalog: Catalog,
  now: number,
): Pick<PrefsEditor, 'channels' | 'grid' | 'tz' | 'quiet' | 'invalid' | 'quietNow' | 'inQuiet' | 'caps' | 'digests'> {
  const prefs = parsePreferences(raw, catalog.channels);
  const rules = parseRules(raw);
  const channels = catalog.channels.map((c) => ({ name: c.name, value: prefs[c.name] ?? ('off' as const) }));
  const grid = [...catalog.eventTypes.values()].map((definition) => ({
    type: definition.type,
    cells: catalog.channels.map((c) => ({
      channel: c.name,
      choice: typeChoice(definition, c.name, rules),
      def: typeDefault(definition, c.name),
    })),
  }));
  const badTz = rules.invalid.includes('tz');
  const badQuiet = rules.invalid.includes('quiet');
  const tz = badTz
    ? `${rules.tz} (the field "${bound(raw.tz ?? '', 64)}" is not a time zone: ignored)`
    : raw.tz === undefined
      ? `${rules.tz} (unset: the default)`
      : rules.tz;
  const quiet = badQuiet
    ? `none (the field "${bound(raw.quiet ?? '', 64)}" cannot be parsed: ignored)`
    : rules.quiet.length > 0
      ? quietHoursText(rules.quiet)
      : '';
  let quietNow = 'no quiet hours';
  let inQuiet = false;
  if (rules.quiet.length > 0) {
    const state = quietState(now, rules.tz, rules.quiet);
    if (state.quiet) {
      inQuiet = true;
      quietNow = `in quiet hours now (${state.window}) until ${state.untilLabel}: sends are deferred to then`;
    } else {
      quietNow =
        state.next === undefined
          ? 'not in quiet hours'
          : `not in quiet hours; the next window starts ${localLabel(state.next, rules.tz, now)}`;
    }
  }
  // Caps and digest windows, as `prefs set` writes them: `3/1h` on a channel, `10m` for a type.
  const written = capsAndDigestsText(rules);
  const caps = catalog.channels.map((c) => ({ channel: c.name, value: written.caps[c.name] ?? '' }));
  const digests = digestible(catalog).map((type) => ({ type, value: written.digests[type] ?? '' }));
  return {
    channels,
    grid,
    tz,
    quiet,
    invalid: rules.invalid.map((f) => bound(f, 64)),
    quietNow,
    inQuiet,
    caps,
    digests,
  };
}

/** The value after `value` ('' for none) among `steps`: the first from none, none after the last or any other. */
export function nextStep(value: string, steps: readonly string[]): string {
  if (value === '') return steps[0]!;
  const at = steps.indexOf(value);
  return at >= 0 && at < steps.length - 1 ? steps[at + 1]! : 'none';
}

/** What space does to a type cell: default → off → on → default. */
export function nextChoice(choice: Exclude<TypeChoice, 'required'>): 'on' | 'off' | 'default' {
  return choice === 'default' ? 'off' : choice === 'off' ? 'on' : 'default';
}

export class PrefsEditorActions {
  private chain: Promise<void> = Promise.resolve();
  private reading = false;
  /** Reads numbered as they start; the newest applied; the number a write took (reads before it are stale). */
  private seq = 0;
  private applied = 0;
  private writeSeq = 0;

  constructor(
    private readonly store: DashboardStore,
    private readonly current: () => Pipeline | undefined,
    private readonly notify: Notify,
    /** Called around each write: a users read that started before it is not applied over it. */
    private readonly wrote: () => void,
  ) {}

  private redisReady(pipeline: Pipeline | undefined): pipeline is Pipeline {
    return pipeline !== undefined && (pipeline.embedded || pipeline.redis.status === 'ready');
  }

  /** Enter on a Users row: opens the editor on the selected user and reads their preferences. */
  open(): boolean {
    const state = this.store.getState();
    const user = selectedUser(state);
    if (!user) {
      this.notify(state.userCount === 0 ? 'no user selected yet' : 'the selected user is not read yet', 'error');
      return false;
    }
    if (user.idCut) {
      this.notify(`the selected user's id is longer than ${KEPT_LENGTH} characters: edit it with redis-cli`, 'error');
      return false;
    }
    if (user.missing) {
      this.notify(`user ${sanitize(user.id)} is in the set "users" but has no hash user:${sanitize(user.id)}`, 'error');
      return false;
    }
    this.store.setState({
      view: 'prefs',
      scroll: 0,
      prefsEditor: { ...emptyPrefsEditor(user.id, user.name), state: 'loading' },
    });
    void this.read();
    return true;
  }

  /** Reads the open editor's user again, every second while open (one such read at a time). */
  async load(): Promise<void> {
    if (this.reading || this.store.getState().view !== 'prefs') return;
    this.reading = true;
    try {
      await this.read();
    } finally {
      this.reading = false;
    }
  }

  /** Reads `prefs:<id>` into the editor, unless a write started since the read did (then a later read shows it). */
  private async read(): Promise<void> {
    const userId = this.store.getState().prefsEditor.userId;
    const mine = ++this.seq;
    const pipeline = this.current();
    const set = (patch: Partial<PrefsEditor>): void => {
      if (mine < this.writeSeq || mine < this.applied) return;
      this.applied = mine;
      this.store.setState((s) =>
        s.prefsEditor.userId === userId ? { prefsEditor: { ...s.prefsEditor, ...patch } } : {},
      );
    };
    if (!this.redisReady(pipeline)) {
      return set({ state: 'loading', message: 'waiting for Redis: read as soon as it answers' });
    }
    try {
      const raw = await pipeline.store.rawPreferences(userId);
      set({ state: 'ready', message: '', at: Date.now(), ...editorModel(raw, pipeline.catalog, clockNow()) });
    } catch (error) {
      const key = prefsKey(userId);
      const message = isWrongType(error)
        ? `${key} holds a value of another type, not a hash (WRONGTYPE): see it with \`redis-cli TYPE ${key}\``
        : `could not read ${key}: ${(error as Error).message}`;
      set({ state: 'error', message: bound(message), channels: [], grid: [] });
    }
  }

  /** Space: the cell under the cursor changed in Redis, after any change pressed before it. */
  toggle(): void {
    this.chain = this.chain.then(() => this.toggleNow()).catch(() => undefined);
  }

  private async toggleNow(): Promise<void> {
    const { view, prefsEditor: e } = this.store.getState();
    if (view !== 'prefs') return;
    const who = sanitize(e.userId);
    if (e.state !== 'ready') {
      return this.notify(
        e.state === 'error' ? `not changed: ${sanitize(e.message)}` : `not changed: prefs:${who} is not read yet`,
        'error',
      );
    }
    const pipeline = this.current();
    if (!this.redisReady(pipeline)) return this.notify('not changed: Redis is not connected', 'error');
    let name: string;
    let value: string;
    const capsRow = capsRowOf(e);
    if (e.row === 0) {
      const channel = e.channels[e.col];
      if (!channel) return;
      name = channel.name;
      value = channel.value === 'on' ? 'off' : 'on';
    } else if (e.row === capsRow) {
      const cap = e.caps[e.col];
      if (!cap) return;
      name = `cap.${cap.channel}`;
      value = nextStep(cap.value, CAP_STEPS);
    } else if (e.row > capsRow) {
      const digest = e.digests[e.row - capsRow - 1];
      if (!digest) return;
      name = `digest.${digest.type}`;
      value = nextStep(digest.value, DIGEST_STEPS);
    } else {
      const row = e.grid[e.row - 1];
      const c = row?.cells[e.col];
      if (!row || !c) return;
      name = `${row.type}.${c.channel}`;
      if (c.choice === 'required') {
        return this.notify(
          `${name} is required: ${row.type} is always sent on ${c.channel}; it cannot change`,
          'error',
        );
      }
      value = nextChoice(c.choice);
    }
    let write;
    try {
      write = parsePreferenceValue(parsePreferenceField(name, pipeline.catalog), value, pipeline.catalog);
    } catch (error) {
      return this.notify(`not changed: ${sanitize((error as Error).message)}`, 'error');
    }
    this.wrote();
    this.writeSeq = ++this.seq;
    try {
      await pipeline.store.writePreference(e.userId, write);
    } catch (error) {
      const message = isWrongType(error)
        ? `${prefsKey(who)} holds a value of another type, not a hash (WRONGTYPE)`
        : (error as Error).message;
      return this.notify(`${name} not changed for ${who}: ${sanitize(message)}`, 'error');
    } finally {
      this.wrote();
      // Reads started before the write ended may hold what it replaced: dropped.
      this.writeSeq = ++this.seq;
    }
    if (e.row === 0) {
      // The Users panel shows the switch at once (its next read agrees).
      const v = value as 'on' | 'off';
      this.store.setState((s) => ({
        users: s.users.map((u) => (u.id === e.userId ? { ...u, prefs: { ...u.prefs, [name]: v } } : u)),
      }));
    }
    const command = 'remove' in write ? `HDEL prefs:${who} ${name}` : `HSET prefs:${who} ${name} ${write.value}`;
    this.notify(`${name} ${value} for ${who} (${command})`);
    await this.read();
  }
}
