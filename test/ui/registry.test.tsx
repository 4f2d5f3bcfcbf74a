/**
 * The keymap and the views are each one list: every command has a help line, a footer group and a
 * handler, every binding's command is carried out, and every view is reachable by a key the help lists.
 */
import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { App } from '../../src/ui/App.js';
import {
  actsIn,
  buildKeymap,
  Command,
  COMMAND_INFO,
  footerHint,
  HANDLERS,
  helpLines,
  keyMode,
} from '../../src/ui/keymap.js';
import { VIEW_IDS, VIEWS, viewOf } from '../../src/ui/views/registry.js';
import { makeStore, recordingActions } from './fixtures.js';
import { renderAt, waitForFrame } from './render.js';

afterEach(() => cleanup());

const { store } = makeStore();
const bindings = buildKeymap(store.getState().eventTypes, store.getState().channels);

describe('commands', () => {
  it('every command has a help line, a footer group and a handler that asks for one action', () => {
    for (const command of Object.values(Command)) {
      const info = COMMAND_INFO[command];
      expect(info, command).toBeDefined();
      const help = typeof info.help === 'string' ? info.help : info.help('x');
      expect(help.length, command).toBeGreaterThan(0);
      expect(info.group.length, command).toBeGreaterThan(0);
      const actions = recordingActions();
      HANDLERS[command](actions, 'x');
      expect(actions.calls, command).toHaveLength(1);
    }
    expect(Object.keys(COMMAND_INFO).sort()).toEqual(Object.values(Command).sort());
    expect(Object.keys(HANDLERS).sort()).toEqual(Object.values(Command).sort());
  });

  it("every binding's command has a handler and a help line, and every command a binding", () => {
    for (const b of bindings) {
      expect(typeof HANDLERS[b.command], b.keys).toBe('function');
      expect(COMMAND_INFO[b.command], b.keys).toBeDefined();
      expect(b.match.length, b.keys).toBeGreaterThan(0);
    }
    expect(new Set(bindings.map((b) => b.command))).toEqual(new Set(Object.values(Command)));
    // Each event type and channel is bound, carrying its name to the handler.
    const inject = bindings.filter((b) => b.command === Command.Inject).map((b) => b.arg);
    expect(inject).toEqual(store.getState().eventTypes.map((e) => e.type));
    const toggle = bindings.filter((b) => b.command === Command.ToggleChannel).map((b) => b.arg);
    expect(toggle).toEqual(store.getState().channels.map((c) => c.name));
  });
});

describe('the view registry', () => {
  it('names each view once; the store and keyMode take its id', () => {
    expect(new Set(VIEW_IDS).size).toBe(VIEWS.length);
    for (const id of VIEW_IDS) {
      expect(viewOf(id).id).toBe(id);
      expect(keyMode({ filterDraft: null, confirm: null, help: false, view: id })).toBe(id);
    }
  });

  it('every view is opened by a bound key, and can be moved in, closed, helped and quit', () => {
    for (const view of VIEWS) {
      const opening = bindings.filter((b) => b.command === view.opens);
      expect(opening.length, view.id).toBeGreaterThan(0);
      for (const command of [Command.MoveDown, Command.Close, Command.ToggleHelp, Command.Quit]) {
        expect(
          bindings.some((b) => b.command === command && actsIn(b, view.id)),
          `${command} in ${view.id}`,
        ).toBe(true);
      }
      expect(footerHint(bindings, view.id).endsWith('? help  q quit'), view.id).toBe(true);
    }
  });

  it("the help overlay lists every view's key and what it opens", async () => {
    const { store } = makeStore();
    const r = renderAt(<App store={store} actions={recordingActions()} color={false} />, 120, 50);
    store.setState({ help: true });
    const frame = await waitForFrame(r.frame, (f) => f.includes('Keys'), 'the help overlay');
    const lines = helpLines(bindings);
    for (const view of VIEWS) {
      const i = bindings.findIndex((b) => b.command === view.opens);
      const line = lines[i]!;
      expect(frame, view.id).toMatch(new RegExp(`${line.keys.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\s+`));
      expect(frame, view.id).toContain(line.description);
    }
  });
});
