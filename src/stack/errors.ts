/** A condition the user can fix; `message` says what is wrong, `hint` what to do. */
export type StackErrorCode =
  | 'JAVA_MISSING'
  | 'JAVA_TOO_OLD'
  | 'MAVEN_MISSING'
  | 'MAVEN_UNREACHABLE'
  | 'MAVEN_FAILED'
  | 'PORT_FOREIGN'
  | 'CONTROLLER_PORT_BUSY'
  | 'NOT_LOCAL'
  | 'NOT_ANSWERING'
  | 'REDIS_SERVER_MISSING'
  | 'KAFKA_NOT_READY'
  | 'KAFKA_LAYOUT'
  | 'CLUSTER_MIXED'
  | 'REDIS_NOT_READY'
  | 'REPLICA_NEEDS_SENTINEL'
  | 'SENTINEL_NEEDS_PORTS'
  | 'SENTINEL_COUNT'
  | 'PORT_TWICE'
  | 'SENTINEL_NOT_READY';

export class StackError extends Error {
  override name = 'StackError';
  constructor(
    readonly code: StackErrorCode,
    message: string,
    readonly hint: string,
    readonly logTail?: string,
  ) {
    super(message);
  }

  /** What the CLI prints: the problem, what to do, and the log tail when there is one. */
  describe(): string {
    const lines = [`error: ${this.message}`, `  ${this.hint}`];
    if (this.logTail) {
      lines.push('  last lines of its log:');
      for (const line of this.logTail.split('\n')) lines.push(`    ${line}`);
    }
    return lines.join('\n');
  }
}
