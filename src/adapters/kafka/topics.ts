/** Topics are ensured (created if missing) before anything produces or consumes. */
import type { Admin } from 'kafkajs';

export const dlqTopicOf = (topic: string): string => `${topic}.dlq`;

/** Large enough that an oversized event (over the consumer's limit) can still reach the dead-letter topic intact. */
const MAX_MESSAGE_BYTES = String(16 * 1024 * 1024);

export async function ensureTopics(admin: Admin, topics: string[], partitions: number): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t));
  if (missing.length === 0) return [];
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic,
        numPartitions: partitions,
        replicationFactor: -1,
        configEntries: [{ name: 'max.message.bytes', value: MAX_MESSAGE_BYTES }],
      })),
    });
  } catch (error) {
    // Another process may have created it at the same moment.
    const now = new Set(await admin.listTopics());
    if (!missing.every((t) => now.has(t))) throw error;
  }
  return missing;
}
