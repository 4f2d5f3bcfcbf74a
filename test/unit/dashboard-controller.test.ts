/**
 * Keys pressed before Kafka or Redis answer are not lost: they wait in a small bounded queue, the
 * footer says so at once, and they are carried out once the service answers. Here on the embedded
 * stand-ins (an in-process log, an in-memory Redis): what a user would lose is an event or a toggle.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DashboardController, PENDING_INJECTIONS, type InspectSource } from '../../src/cli/dashboard/controller.js';
import { loadCatalog } from '../../src/domain/catalog.js';
import { createLogger } from '../../src/log/logger.js';
import { embeddedBackends, Pipeline, type PipelineSettings } from '../../src/app/runtime.js';
import type { Outcome } from '../../src/telemetry/outcomes.js';
import { allUsers, createDashboardStore, type DashboardStore } from '../../src/ui/store.js';
import { users } from '../ui/fixtures.js';

const catalog = await loadCatalog();
const settings: PipelineSettings = {
  brokers: ['embedded'],
  redisUrl: 'redis://embedded',
  topic: 'keys-while-connecting',
  group: 'keys-while-connecting',
  partitions: 3,
  fromBeginning: true,
  maxBytes: 1024 * 1024,
  latencyMs: 0,
  failureRate: 0,
  dedupeWindowSeconds: 86400,
};

let pipeline: Pipeline | undefined;
afterEach(async () => {
  await pipeline?.stop();
  pipeline = undefined;
});

function dashboard(): { store: DashboardStore; controller: DashboardController } {
  const store = createDashboardStore({
    info: { brokers: '', topic: '', group: '', redisUrl: '', logFile: '', mode: '' },
    channels: catalog.channels.map((c) => ({ name: c.name, label: c.label, toggleKey: c.toggleKey })),
    eventTypes: [...catalog.eventTypes.values()].map((e) => ({ type: e.type, key: e.key, color: e.color })),
  });
  return {
    store,
    controller: new DashboardController(
      store,
      () => pipeline,
      () => undefined,
    ),
  };
}

const notice = (store: DashboardStore): string => store.getState().notice?.text ?? '';

async function connected(): Promise<{ produced: Outcome[] }> {
  const p = new Pipeline(settings, catalog, createLogger({ kind: 'silent' }), embeddedBackends());
  const produced: Outcome[] = [];
  p.telemetry.subscribe((o) => {
    if (o.kind === 'produced') produced.push(o);
  });
  await p.ensureTopics();
  await p.seedIfEmpty();
  await p.startProducer(0);
  pipeline = p;
  return { produced };
}

describe('keys pressed while the dashboard connects', () => {
  it('an injection before Kafka is connected is queued, said so, and sent on connect', async () => {
    const { store, controller } = dashboard();
    controller.inject('user_signup');
    expect(notice(store)).toBe('user_signup for the selected user queued: Kafka connecting');
    store.setState(allUsers(users()));
    controller.inject('item_purchased');
    expect(notice(store)).toBe('item_purchased for user-01 queued: Kafka connecting (2 waiting)');
    expect(controller.pending()).toEqual({ injections: 2, toggles: 0 });
    // What a quit now would report as not carried out, on the terminal after the dashboard.
    expect(controller.pendingKeys()).toEqual(['user_signup for the selected user', 'item_purchased for user-01']);

    const { produced } = await connected();
    await controller.flush();
    expect(produced.map((o) => (o.kind === 'produced' ? `${o.type} ${o.userId}` : ''))).toEqual([
      'user_signup user-01',
      'item_purchased user-01',
    ]);
    expect(notice(store)).toBe('2 queued injections sent');
    expect(controller.pending()).toEqual({ injections: 0, toggles: 0 });

    controller.inject('password_reset');
    await vi.waitFor(() => expect(notice(store)).toBe('password_reset for user-01 sent'));
  });

  it('keys not carried out name the user escaped, as the dashboard showed it', () => {
    const { store, controller } = dashboard();
    store.setState(allUsers([{ ...users()[0]!, id: 'user-\u001b[31m01' }]));
    controller.inject('user_signup');
    controller.toggleChannel('sms');
    expect(controller.pendingKeys()).toEqual([
      'user_signup for user-\\u001b[31m01',
      'sms toggle for user-\\u001b[31m01',
    ]);
  });

  it('d before Kafka answers says it waits, and the dead letters are read as soon as it does', async () => {
    const { store } = dashboard();
    let source: InspectSource | undefined = undefined;
    const controller = new DashboardController(
      store,
      () => pipeline,
      () => undefined,
      () => source,
    );
    controller.openDeadLetters();
    expect(store.getState().view).toBe('deadletters');
    expect(store.getState().deadLetters).toMatchObject({
      state: 'loading',
      message: expect.stringMatching(/waiting for Kafka/),
    });
    await controller.flush(); // a tick while Kafka still connects: nothing to read yet
    expect(store.getState().deadLetters.state).toBe('loading');
    const fail = (): never => {
      throw new Error('not used');
    };
    source = {
      detail: () => undefined,
      deadLetters: async () => ({ topic: 'keys.dlq', letters: [], inTopic: 0 }),
      replay: fail,
      partitions: fail,
      exportRows: fail,
    };
    await controller.flush(); // the first tick after Kafka answered
    await vi.waitFor(() => expect(store.getState().deadLetters).toMatchObject({ state: 'ready', topic: 'keys.dlq' }));
  });

  it('a full queue says so; nothing is dropped silently', async () => {
    const { store, controller } = dashboard();
    store.setState(allUsers(users()));
    for (let i = 0; i < PENDING_INJECTIONS; i++) controller.inject('user_signup');
    controller.inject('item_purchased');
    expect(store.getState().notice).toMatchObject({
      tone: 'error',
      text: `item_purchased for user-01 not queued: ${PENDING_INJECTIONS} injections already wait (Kafka connecting)`,
    });
    const { produced } = await connected();
    await controller.flush();
    expect(produced).toHaveLength(PENDING_INJECTIONS);
  });

  it('a toggle before Redis answers is written once it does, from the value Redis then holds', async () => {
    const { store, controller } = dashboard();
    controller.toggleChannel('sms');
    expect(notice(store)).toBe('sms toggle for the selected user queued: Redis connecting');
    await connected();
    // Redis answers; the users are read on the next refresh
    await controller.flush();
    expect(controller.pending().toggles).toBe(1);
    store.setState(allUsers(users())); // user-01: sms off
    await controller.flush();
    expect(await pipeline!.redis.hget('prefs:user-01', 'sms')).toBe('on');
    expect(notice(store)).toBe('sms on for user-01 (HSET prefs:user-01 sms on)');
    expect(store.getState().users[0]!.prefs['sms']).toBe('on');
  });
});

describe('Esc', () => {
  it('closes the help and does nothing else', () => {
    const { store, controller } = dashboard();
    controller.closeOverlay();
    expect(store.getState().help).toBe(false);
    controller.toggleHelp();
    expect(store.getState().help).toBe(true);
    controller.closeOverlay();
    expect(store.getState().help).toBe(false);
  });
});

describe('no users at all', () => {
  it('once the users were read and there are none, a key says so, and keys that waited are reported, not kept', async () => {
    const { store, controller } = dashboard();
    controller.inject('user_signup');
    controller.toggleChannel('sms');
    expect(controller.pending()).toEqual({ injections: 1, toggles: 1 });
    await connected();
    controller.usersRead = true; // read: none
    store.setState({ userTotal: 0 });
    await controller.flush();
    expect(store.getState().notice).toMatchObject({
      tone: 'error',
      text: '2 queued key(s) not carried out: no users (are the users seeded? `eventstream-tui seed`)',
    });
    expect(controller.pending()).toEqual({ injections: 0, toggles: 0 });
    controller.inject('user_signup');
    expect(notice(store)).toBe('no user selected (are the users seeded? `eventstream-tui seed`)');
    expect(controller.pending().injections).toBe(0);
  });
});

describe('the Users panel among many users', () => {
  it('/ with the Users panel focused searches the ids (the rows filter stays as it was); Esc clears the search', () => {
    const { store, controller } = dashboard();
    store.setState({ ...allUsers(users()), userTotal: 1_000_000, userCount: 100_000, selected: 7 });
    controller.startFilter();
    expect(store.getState()).toMatchObject({ filterDraft: '', filterTarget: 'users' });
    controller.typeFilter('gen-42');
    controller.applyFilter();
    expect(store.getState()).toMatchObject({
      filter: '',
      filterDraft: null,
      selected: 0,
      userSearch: { query: 'gen-42', state: 'searching', matches: 0, capped: false },
    });
    // A second search (a typo mended) still goes back to the user selected before the first.
    store.setState({ selected: 2 });
    controller.startFilter();
    controller.typeFilter('3');
    controller.applyFilter();
    expect(store.getState()).toMatchObject({ selected: 0, userSearch: { query: 'gen-423' } });
    controller.closeOverlay();
    expect(store.getState()).toMatchObject({ userSearch: null, selected: 7 });
    // Another panel focused: / filters the rows, as before.
    controller.moveFocus(1);
    controller.startFilter();
    controller.typeFilter('user-02');
    controller.applyFilter();
    expect(store.getState()).toMatchObject({ filter: 'user-02', userSearch: null, filterTarget: 'rows' });
  });

  it('a search that found nothing says so when a key needs a user', () => {
    const { store, controller } = dashboard();
    store.setState({
      users: [],
      userCount: 0,
      userTotal: 1_000_000,
      userSearch: { query: 'nobody', state: 'done', matches: 0, capped: false },
    });
    controller.inject('user_signup');
    expect(notice(store)).toBe('no user id matches "nobody" (Esc clears the search)');
    expect(controller.pending()).toEqual({ injections: 0, toggles: 0 });
  });

  it('↓ stops at the last user paged in scan order and says how to find the others', () => {
    const { store, controller } = dashboard();
    store.setState({ ...allUsers(users()), userTotal: 1_000_000, userCount: 100_000, selected: 99_990 });
    controller.moveSelection(10);
    controller.moveSelection(10);
    expect(store.getState().selected).toBe(99_999);
    expect(notice(store)).toBe('the first 100,000 of 1,000,000 users (scan order): / searches the ids');
  });

  it('a user whose key holds another type is named, and no key acts on it', async () => {
    const { store, controller } = dashboard();
    await connected();
    const broken = {
      ...users()[0]!,
      prefs: {},
      broken: 'prefs:user-01 holds a value of another type, not a hash (WRONGTYPE)',
    };
    store.setState(allUsers([broken, ...users().slice(1)]));
    const before = await pipeline!.redis.hget('prefs:user-01', 'sms');
    controller.toggleChannel('sms');
    expect(notice(store)).toBe(
      'user user-01 cannot be read: prefs:user-01 holds a value of another type, not a hash (WRONGTYPE)',
    );
    expect(controller.pending()).toEqual({ injections: 0, toggles: 0 });
    expect(await pipeline!.redis.hget('prefs:user-01', 'sms')).toBe(before);
  });
});

describe('the first seconds', () => {
  it('j j m pressed before the users are read toggles the third user once they are, not the first', async () => {
    const { store, controller } = dashboard();
    controller.moveSelection(1);
    controller.moveSelection(1);
    expect(notice(store)).toBe('selection +2 queued: the users are not read yet');
    controller.toggleChannel('sms');
    await connected();
    store.setState(allUsers(users())); // read: user-03's SMS shown on
    await controller.flush();
    expect(store.getState().selected).toBe(2);
    expect(await pipeline!.redis.hget('prefs:user-03', 'sms')).toBe('off');
    expect(notice(store)).toBe('sms off for user-03 (HSET prefs:user-03 sms off)');
  });
});
