/** What the exit code tells a script (docs/contracts.md, "Exit codes"). */
export const EXIT = {
  ok: 0,
  /** A service missing or refusing, or a command that failed. */
  failure: 1,
  /** A bad flag, argument or setting: usage help was printed. */
  usage: 2,
  /** Stopped with produced events the broker never acknowledged (they were listed and written to a file). */
  unacknowledged: 3,
  /** The consumer stopped on its own: a message could be neither delivered nor dead-lettered, or kafkajs gave up. */
  consumerStopped: 4,
  /** `stack status`: it ran, and a service it reports on is not reachable. */
  serviceDown: 5,
} as const;
