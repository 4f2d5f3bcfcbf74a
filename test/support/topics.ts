/** Topics the tests create, waited for until every partition has a leader. */
import type { Admin, ITopicConfig } from 'kafkajs';

/**
 * Creates the topics (those that exist already are left) and waits until each has its partitions,
 * every one with a leader. kafkajs' own wait (`waitForLeaders`) gives up on the first "This server does
 * not host this topic-partition", which a loaded broker answers for a moment after a create.
 */
export async function createTopicsLed(admin: Admin, topics: ITopicConfig[], timeoutMs = 60_000): Promise<void> {
  await admin.createTopics({ topics, waitForLeaders: false });
  const names = topics.map((t) => t.topic);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const led = await admin
      .fetchTopicMetadata({ topics: names })
      .then((m) =>
        m.topics.every((t) => {
          const wanted = topics.find((c) => c.topic === t.name)?.numPartitions ?? 1;
          return t.partitions.length >= wanted && t.partitions.every((p) => p.leader >= 0);
        }),
      )
      .catch(() => false);
    if (led) return;
    if (Date.now() > deadline)
      throw new Error(`no leader for every partition of ${names.join(', ')} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
