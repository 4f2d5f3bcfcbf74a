/**
 * The controller's screen-only half: moves, views and Esc change the store alone (no pipeline, no
 * Kafka), each view as its descriptor in src/ui/views/ says.
 */
import { describe, expect, it } from 'vitest';
import { ViewState, notifier } from '../../src/cli/dashboard/view-state.js';
import type { LetterRow } from '../../src/ui/store.js';
import { makeStore } from '../ui/fixtures.js';

const letter = (offset: string): LetterRow => ({
  partition: 0,
  offset,
  writtenAt: 0,
  reason: 'undecodable',
  detail: '',
  channel: null,
  key: null,
  sourceTopic: 'user_events',
  source: '0@1',
  eventId: null,
  failedAt: null,
  value: 'x',
  valueBytes: 1,
  headers: [],
});

function setup() {
  const { store } = makeStore();
  const view = new ViewState(store, notifier(store), () => undefined);
  return { store, view };
}

describe('view state', () => {
  it('↓ over the dead letters moves their cursor; Enter opens one; Esc goes back to the list, then the panels', () => {
    const { store, view } = setup();
    view.openView('deadletters', (s) => ({
      deadLetters: { ...s.deadLetters, state: 'ready', letters: [letter('1'), letter('2')] },
    }));
    view.moveSelection(1);
    view.moveSelection(5);
    expect(store.getState().deadLetters.cursor).toBe(1);
    view.openDetail();
    expect(store.getState().view).toBe('letter');
    view.closeOverlay();
    expect(store.getState()).toMatchObject({ view: 'deadletters', scroll: 0 });
    view.closeOverlay();
    expect(store.getState()).toMatchObject({ view: 'main', detail: null, scroll: 0 });
  });

  it('the help over a view scrolls, never the view under it; a view without lines does not scroll', () => {
    const { store, view } = setup();
    store.setState({ viewport: { columns: 80, rows: 10 } });
    view.openView('partitions');
    view.moveSelection(3);
    expect(store.getState().scroll).toBe(0);
    view.toggleHelp();
    view.moveSelection(3);
    expect(store.getState()).toMatchObject({ help: true, scroll: 3, view: 'partitions' });
  });

  it('Esc to a question cancels it and says so', () => {
    const { store, view } = setup();
    store.setState({ confirm: { question: 'y/n?', letter: { partition: 0, offset: '1' } } });
    view.closeOverlay();
    expect(store.getState().confirm).toBeNull();
    expect(store.getState().notice?.text).toBe('replay cancelled');
  });
});
