/** Is a Redis there? A PING, no client library (see ../probe.ts). */
import { isSentinelUrl, redisAddresses } from '../../config/config.js';
import { exchange, type ProbeResult, type ProbeTls, type ServiceCheck } from '../probe.js';

/** Judges the first line a server sent in answer to `PING`. NOAUTH still proves it is Redis. */
export function judgeRedisAnswer(received: Buffer, where: string): ProbeResult | undefined {
  const text = received.toString('latin1');
  const eol = text.indexOf('\r\n');
  if (eol < 0) {
    return received.length > 512 ? { state: 'foreign', detail: `${where} answered, but not as Redis` } : undefined;
  }
  const line = text.slice(0, eol);
  if (line === '+PONG') return { state: 'answers', detail: 'PONG' };
  if (/^-(NOAUTH|WRONGPASS|ERR operation not permitted|NOPERM)/.test(line)) {
    return { state: 'answers', detail: `Redis asks for credentials (${line.slice(1)})` };
  }
  if (/^-(LOADING|MASTERDOWN|BUSY)/.test(line)) return { state: 'answers', detail: line.slice(1) };
  return { state: 'foreign', detail: `${where} answered "${line.slice(0, 60)}", not as Redis` };
}

export function probeRedis(host: string, port: number, timeoutMs = 2000, secure?: ProbeTls): Promise<ProbeResult> {
  const where = `${host}:${port}`;
  return exchange(
    host,
    port,
    timeoutMs,
    { request: Buffer.from('PING\r\n'), judge: (received) => judgeRedisAnswer(received, where) },
    secure,
  );
}

/**
 * Redis is up when the server of `redisUrl` answers (over TLS for rediss://, trusting `ca` if given);
 * behind a Sentinel URL, when one of its Sentinels answers (they speak plain RESP; the client finds the
 * primary through them).
 */
export async function checkRedis(redisUrl: string, timeoutMs: number, ca?: string): Promise<ServiceCheck> {
  const sentinel = isSentinelUrl(redisUrl);
  const details: string[] = [];
  for (const { host, port } of redisAddresses(redisUrl)) {
    const probe = await probeRedis(
      host,
      port,
      timeoutMs,
      !sentinel && redisUrl.startsWith('rediss:') ? { ca } : undefined,
    );
    if (probe.state === 'answers')
      return { up: true, detail: sentinel ? `Sentinel ${host}:${port}: ${probe.detail}` : probe.detail };
    details.push(sentinel ? `Sentinel ${host}:${port}: ${probe.detail}` : probe.detail);
  }
  return { up: false, detail: details.join('; ') };
}
