/**
 * The inspect keys on the embedded pipeline (an in-process log, an in-memory Redis), through the real
 * controller, collector and views: what a person sees after Tab, Enter, /, d, R, l and x.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { DashboardController } from '../../src/cli/dashboard/controller.js';
import { inspectSource } from '../../src/cli/dashboard/inspect.js';
import { tickUpdate } from '../../src/cli/dashboard/tick.js';
import { createLogger } from '../../src/log/logger.js';
import { embeddedBackends, Pipeline, type PipelineSettings } from '../../src/pipeline/runtime.js';
import { Collector } from '../../src/telemetry/collector.js';
import { App } from '../../src/ui/App.js';
import { createDashboardStore, type DashboardStore } from '../../src/ui/store.js';
import { catalog } from './fixtures.js';
import { renderAt, settle, waitForFrame } from './render.js';

const KEY = { tab: '\t', shiftTab: '\u001B[Z', enter: '\r', esc: '\u001B', down: '\u001B[B', backspace: '\u007F' };

interface Rig {
  store: DashboardStore;
  pipeline: Pipeline;
  collector: Collector;
  dir: string;
  frame: () => string;
  press: (...keys: string[]) => Promise<void>;
  stop: () => Promise<void>;
}

let rig: Rig | undefined;
afterEach(async () => {
  cleanup();
  await rig?.stop();
  rig = undefined;
});

async function start(columns = 120, rows = 40): Promise<Rig> {
  const settings: PipelineSettings = {
    brokers: ['embedded'],
    redisUrl: 'redis://embedded',
    topic: 'inspect',
    group: 'inspect-group',
    partitions: 3,
    fromBeginning: true,
    maxBytes: 1024 * 1024,
    latencyMs: 0,
    failureRate: 0,
    dedupeWindowSeconds: 86400,
  };
  const pipeline = new Pipeline(settings, catalog, createLogger({ kind: 'silent' }), embeddedBackends());
  const collector = new Collector();
  pipeline.telemetry.subscribe(collector.listener);
  await pipeline.ensureTopics();
  await pipeline.seedIfEmpty();
  await pipeline.startConsumer();
  await pipeline.startProducer(0);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'etui-inspect-'));
  const store = createDashboardStore({
    info: { brokers: 'embedded', topic: 'inspect', group: 'inspect-group', redisUrl: '', logFile: '', mode: '' },
    channels: catalog.channels.map((c) => ({ name: c.name, label: c.label, toggleKey: c.toggleKey })),
    eventTypes: [...catalog.eventTypes.values()].map((e) => ({ type: e.type, key: e.key, color: e.color })),
  });
  const source = inspectSource(pipeline, collector, () => dir);
  const controller = new DashboardController(
    store,
    () => pipeline,
    () => undefined,
    () => source,
  );
  const tick = setInterval(() => store.setState(tickUpdate(store.getState(), collector)), 50);
  const partitions = setInterval(() => void controller.refreshPartitions(), 200);
  const r = renderAt(<App store={store} actions={controller} color={false} />, columns, rows);
  await settle();
  return {
    store,
    pipeline,
    collector,
    dir,
    frame: r.frame,
    press: async (...keys) => {
      for (const k of keys) {
        r.stdin.write(k);
        await settle();
      }
    },
    stop: async () => {
      clearInterval(tick);
      clearInterval(partitions);
      await pipeline.stop();
    },
  };
}

const lineWith = (frame: string, ...parts: string[]): string | undefined =>
  frame.split('\n').find((l) => parts.every((p) => l.includes(p)));

describe('inspect keys', () => {
  it('Tab focuses the Event stream (double border); ↓ holds it and counts new rows; Enter shows the event and its trace; Esc closes', async () => {
    rig = await start();
    const { pipeline, press, frame } = rig;
    expect(frame()).toMatch(/║Users \(/);
    await pipeline.producer!.inject('user_signup', 'user-02');
    await pipeline.producer!.inject('item_purchased', 'user-01');
    await waitForFrame(frame, (f) => /item_purchased\s+user-01/.test(f), 'two events in the stream');
    await press(KEY.tab);
    await waitForFrame(frame, (f) => /║Event stream/.test(f) && /╭─+╮\s*$|│Users \(/m.test(f), 'the stream focused');
    await press(KEY.down);
    await waitForFrame(frame, (f) => f.includes('Event stream (held, 0 new)'), 'the stream held');
    await pipeline.producer!.inject('password_reset', 'user-03');
    await waitForFrame(frame, (f) => f.includes('Event stream (held, 1 new)'), 'one new row counted');
    await press(KEY.enter);
    const detail = await waitForFrame(
      frame,
      (f) => f.includes('event id') && f.includes('Redis look-up') && /email\s+sent/.test(f),
      'the detail of the user_signup with its trace',
    );
    expect(detail).toContain('type      user_signup');
    expect(detail).toContain('user      user-02');
    expect(detail).toMatch(/topic\s+inspect\s+partition \d\s+offset \d+/);
    expect(detail).toContain('event-type: user_signup');
    expect(detail).toMatch(/"plan": "/);
    expect(detail).toMatch(/Redis look-up\s+user found · channels on: email, sms, push/);
    expect(detail).toMatch(/accepted: Subject: Welcome/);
    await press(KEY.esc);
    await waitForFrame(
      frame,
      (f) => f.includes('Event stream (held, 1 new)') && !f.includes('event id'),
      'the panels again',
    );
  });

  it('/ filters the stream, deliveries and look-ups; the status bar shows it; Esc clears it', async () => {
    rig = await start();
    const { pipeline, press, frame } = rig;
    await pipeline.producer!.inject('user_signup', 'user-02');
    await pipeline.producer!.inject('item_purchased', 'user-01');
    await waitForFrame(
      frame,
      (f) => /item_purchased\s+user-01/.test(f) && /user_signup\s+user-02/.test(f),
      'both events',
    );
    await press('/', 'u', 's', 'e', 'r', '-', '0', '2');
    await waitForFrame(frame, (f) => f.includes('filter /user-02'), 'the filter being typed in the footer');
    await press(KEY.backspace, '2', KEY.enter);
    const filtered = await waitForFrame(
      frame,
      (f) => f.includes('filter "user-02"') && !/user-01/.test(f.split('Users (')[0]!),
      'only user-02 rows',
    );
    expect(filtered).toMatch(/user_signup\s+user-02/);
    expect(filtered).toMatch(/user-02\s+\S+\s+found/);
    await press('/', 'x', 'y', 'z', 'q', KEY.enter);
    await waitForFrame(frame, (f) => f.includes('no event matches the filter'), 'nothing matches user-02xyzq');
    await press(KEY.esc);
    await waitForFrame(
      frame,
      (f) => /item_purchased\s+user-01/.test(f) && !f.includes('filter "'),
      'the filter cleared',
    );
  });
});
