/**
 * Digests on the real Kafka and Redis, through the real CLI: 5 purchases within a 1-minute digest
 * become one email listing the 5 items, once, though the consumer is killed (SIGKILL, before it
 * commits) during the window; the redelivered members join no second digest; a second group re-reading
 * the topic after the send finds every member a `duplicate`.
 *
 * The consumer restarted after the kill runs its clock 65 s ahead (EVENTSTREAM_CLOCK_OFFSET_MS), past
 * the window's end: the digest is due at once instead of a minute later. The schedule is shared by
 * every consumer on this Redis: the digest is asserted on the outbox, whichever consumer sent it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/cli.js';
import {
  CliProcess,
  createTopic,
  event,
  newRedis,
  produceEvents,
  readOutbox,
  removeUsers,
  unique,
  writeUsers,
  type TestUser,
} from '../support/pipeline.js';
import { removeScheduleEntries, scheduleEntries } from '../support/rules.js';

const redis = newRedis();
const running: CliProcess[] = [];
const prefix = unique('digest');
const user: TestUser = {
  id: `${prefix}-buyer`,
  name: 'Buyer',
  email: 'buyer@example.com',
  phone: '+15550100',
  prefs: { email: 'on', sms: 'off', push: 'off', console: 'off', 'digest.item_purchased': '1m' },
};
const CHANNELS = ['email', 'sms', 'push', 'console'];
let digest = '';

function consume(topic: string, group: string, env: NodeJS.ProcessEnv = {}): CliProcess {
  const p = CliProcess.consume(topic, group, [], env);
  running.push(p);
  return p;
}

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  if (digest)
    await removeScheduleEntries(
      redis,
      CHANNELS.map((c) => [digest, c] as const),
    );
  await redis.del(`digest:{${user.id}}:open`, `digest:{${user.id}}:of`, `digest:{${user.id}}:members:item_purchased`);
  await removeUsers(redis, [user.id]);
  redis.disconnect();
});

describe('digests on the real Kafka and Redis', () => {
  it('5 purchases in a 1-minute digest: one email listing 5 items, once, through a SIGKILL during the window; redelivered members join no digest twice', async () => {
    await writeUsers(redis, [user]);
    const topic = unique('digest');
    await createTopic(topic, 1);
    const items = ['espresso beans', 'kettle', 'filters', 'grinder', 'mug'];
    const events = items.map((item, i) =>
      event('item_purchased', user.id, { orderId: `o-${i + 1}`, item, amount: 10 + i, currency: 'USD' }),
    );
    const ids: string[] = events.map((e) => e.id);
    await produceEvents(topic, events);
    const group = unique('digest-group');

    // The first consumer joins the 5 to one digest, writes its send to the schedule, and is killed
    // before it commits: the window is still open, nothing was sent.
    const crashing = consume(topic, group, { EVENTSTREAM_CRASH_AT: 'before-commit' });
    expect((await crashing.exited).signal).toBe('SIGKILL');
    const joined = crashing.deliveries({ status: 'digested' });
    expect(joined.map((l) => l.eventId)).toEqual(ids);
    expect(joined.every((l) => l.channel === 'email' && l.reason === 'digest')).toBe(true);
    digest = String(joined[0]!.digestId);
    expect(digest).toMatch(new RegExp(`^digest:item_purchased:${user.id}:\\d+$`));
    expect(joined.every((l) => l.digestId === digest)).toBe(true);
    expect(String(joined[0]!.detail)).toMatch(new RegExp(`^digested into ${digest}, sends at \\d\\d:\\d\\d UTC$`));
    expect(crashing.deliveries({ status: 'sent' })).toEqual([]);
    const [entry] = await scheduleEntries(redis, [[digest, 'email']]);
    expect(entry?.entry).toMatchObject({ eventId: digest, channel: 'email', reason: 'digest', digest: { id: digest } });
    expect((await readOutbox(redis, 'email')).filter((l) => l.event === digest)).toEqual([]);

    // A second group re-reading the topic during the window: the members joined before, so each is the
    // same digest's again; none joins twice.
    const during = consume(topic, unique('digest-during'));
    await during.waitForLines(
      'the 5 members re-read during the window',
      () => during.deliveries({ channel: 'email' }).length >= 5,
      60_000,
    );
    expect(during.deliveries({ channel: 'email' }).map((l) => [l.eventId, l.status, l.digestId])).toEqual(
      ids.map((id) => [id, 'digested', digest]),
    );
    await during.stop();
    expect(await redis.zcard(`digest:{${user.id}}:members:item_purchased`)).toBe(5);

    // Restarted past the window's end: the digest is due at once. Each redelivered member is the same
    // digest's again (settled before the send) or a duplicate (after it, from the ledger): never a new digest.
    const restarted = consume(topic, group, { EVENTSTREAM_CLOCK_OFFSET_MS: '65000' });
    await restarted.waitForLines(
      'the 5 redelivered members settled',
      () => restarted.deliveries().filter((l) => ids.includes(String(l.eventId))).length >= 20,
      60_000,
    );
    const again = restarted.deliveries({ channel: 'email' }).filter((l) => ids.includes(String(l.eventId)));
    expect(
      again.map((l) => [
        l.eventId,
        l.status === 'digested' ? `digested ${String(l.digestId)}` : `${String(l.status)} ${String(l.reason)}`,
      ]),
    ).toEqual(
      ids.map((id) => [id, expect.stringMatching(new RegExp(`^(digested ${digest}|duplicate already-sent)$`))]),
    );
    process.stdout.write(`[digests] redelivered: ${again.map((l) => String(l.status)).join(', ')}\n`);
    await waitFor(
      'the digest in the email outbox',
      async () => (await readOutbox(redis, 'email')).some((l) => l.event === digest) || undefined,
      30_000,
    );
    // A second group re-reading the topic after the send: every member is a duplicate, no new digest.
    const rereader = consume(topic, unique('digest-reread'), { EVENTSTREAM_CLOCK_OFFSET_MS: '65000' });
    await rereader.waitForLines('the 5 members re-read', () => rereader.deliveries().length >= 20, 60_000);
    expect(rereader.deliveries({ channel: 'email' }).map((l) => [l.eventId, l.status, l.reason])).toEqual(
      ids.map((id) => [id, 'duplicate', 'already-sent']),
    );
    expect(rereader.deliveries({ status: 'digested' })).toEqual([]);

    // One email, listing the 5 items, its members the 5 events; sent once.
    const mails = (await readOutbox(redis, 'email')).filter((l) => l.event === digest);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.to).toBe(user.email);
    expect(mails[0]!.members).toEqual(ids);
    expect(mails[0]!.text).toContain('5 purchases confirmed');
    expect(mails[0]!.text).toContain(`${items.join(', ')} · 60.00 USD`);
    for (const c of ['sms', 'push', 'console'])
      expect((await readOutbox(redis, c)).filter((l) => l.event === digest || ids.includes(l.event))).toEqual([]);
    // The send's headless line, from whichever of these consumers sent it: `sent`, with digest and members.
    const sentLines = running.flatMap((p) => p.deliveries({ eventId: digest, status: 'sent' }));
    for (const l of sentLines) expect(l).toMatchObject({ digestId: digest, members: ids, channel: 'email' });
    expect(await redis.zcard(`digest:{${user.id}}:members:item_purchased`)).toBe(5);
    expect(await scheduleEntries(redis, [[digest, 'email']])).toEqual([]);
  });
});
