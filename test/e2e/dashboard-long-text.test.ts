/**
 * Anything up to the 1 MiB event limit is legal, and so is any string in Redis. Before, one
 * item_purchased whose item was a "€" and 150,000 letters took over a minute a frame: keys, `q` and
 * Ctrl-C stopped answering, and the consumer lost its partitions. The real binary, in tmux, on the
 * real Kafka and Redis.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Dashboards } from '../support/dashboard.js';
import { createTopic, event, newRedis, produceEvents, removeUsers, unique, writeUsers } from '../support/pipeline.js';

const redis = newRedis();
const dashboards = new Dashboards();
// Sorted before user-01, so it is the user selected at start; removed again after the test.
const longNamed = unique('0ln');

afterAll(async () => {
  dashboards.kill();
  await removeUsers(redis, [longNamed]);
  redis.disconnect();
});

describe('the dashboard with a 300 KB non-ASCII event and a 100 KB user name', () => {
  it('shows both cut to their cells, b still injects within seconds, and q exits 0', async () => {
    const topic = unique('dash-long');
    await createTopic(topic);
    await writeUsers(redis, [
      {
        id: longNamed,
        name: 'é'.repeat(50_000), // 100 KB in UTF-8
        prefs: { email: 'off', sms: 'off', push: 'off', console: 'on' },
      },
    ]);
    const item = `€${'é'.repeat(150_000)}`; // 300 KB in UTF-8
    await produceEvents(topic, [
      event('item_purchased', 'user-01', { orderId: 'ord-long', item, amount: 12.5, currency: 'USD' }),
    ]);

    const { session, screen: shown } = await dashboards.launch(
      { topic, group: unique('dash-long-group') },
      {
        what: 'the long event in the stream and the long name in the Users panel, connected',
        until: (s) =>
          /item_purchased\s+user-01\s+\d@0\s+€é+…/.test(s) &&
          new RegExp(`▸${longNamed} é+…`).test(s) &&
          /partitions \[0,1,2\]/.test(s),
        timeoutMs: 60_000,
      },
    );
    for (const l of shown.split('\n')) expect([...l].length).toBeLessThanOrEqual(120);

    const pressed = Date.now();
    session.keys('b');
    await session.waitForScreen(
      'a new item_purchased for the selected (long-named) user',
      // The stream's user column keeps the end of an id that does not fit.
      (s) => new RegExp(`item_purchased\\s+…${longNamed.slice(-7)}`).test(s),
      10_000,
    );
    expect(Date.now() - pressed).toBeLessThan(5_000);

    session.keys('q');
    expect(await session.exitCode()).toBe(0);
  });
});
