/**
 * Cheap, quiet probes that tell "nothing listens", "the expected server answers"
 * and "something else holds the port" apart, without a client library's retries
 * or log noise.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

export type ProbeResult =
  { state: 'closed'; detail: string } | { state: 'answers'; detail: string } | { state: 'foreign'; detail: string };

interface Exchange {
  request: Buffer;
  /** Returns a verdict once enough bytes arrived, or undefined to keep reading. */
  judge(received: Buffer): ProbeResult | undefined;
}

/** TLS settings for a probe: `ca` a PEM file to trust (else the system's roots). */
export interface ProbeTls {
  ca?: string | undefined;
}

function exchange(
  host: string,
  port: number,
  timeoutMs: number,
  ex: Exchange,
  secure?: ProbeTls,
): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    let settled = false;
    const socket = secure
      ? tls.connect({
          host,
          port,
          ...(net.isIP(host) ? {} : { servername: host }),
          ...(secure.ca ? { ca: [readFileSync(secure.ca, 'utf8')] } : {}),
        })
      : net.connect({ host, port });
    const finish = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => {
      finish(
        socket.connecting
          ? { state: 'closed', detail: `no answer from ${host}:${port} within ${timeoutMs} ms` }
          : { state: 'foreign', detail: `${host}:${port} accepts connections but did not answer the protocol` },
      );
    }, timeoutMs);
    socket.on(secure ? 'secureConnect' : 'connect', () => socket.write(ex.request));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const verdict = ex.judge(received);
      if (verdict) finish(verdict);
    });
    socket.on('end', () =>
      finish(
        ex.judge(received) ?? {
          state: 'foreign',
          detail: `${host}:${port} accepted the connection and closed it without a valid answer`,
        },
      ),
    );
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (socket.connecting || error.code === 'ECONNREFUSED') {
        finish({ state: 'closed', detail: `${host}:${port}: ${error.code ?? error.message}` });
      } else {
        finish({ state: 'foreign', detail: `${host}:${port}: ${error.code ?? error.message}` });
      }
    });
  });
}

const API_VERSIONS_KEY = 18;
const PROBE_CORRELATION_ID = 0x45545549; // "ETUI"

/** An ApiVersions v0 request: every Kafka broker since 0.10 answers it, 4.x included. */
export function kafkaApiVersionsRequest(): Buffer {
  const clientId = Buffer.from('eventstream-tui-probe');
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length);
  let o = body.writeInt16BE(API_VERSIONS_KEY, 0);
  o = body.writeInt16BE(0, o);
  o = body.writeInt32BE(PROBE_CORRELATION_ID, o);
  o = body.writeInt16BE(clientId.length, o);
  clientId.copy(body, o);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

/** Judges bytes received in answer to {@link kafkaApiVersionsRequest}. */
export function judgeKafkaAnswer(received: Buffer, where: string): ProbeResult | undefined {
  if (received.length < 8) return undefined;
  const size = received.readInt32BE(0);
  const correlationId = received.readInt32BE(4);
  if (size < 6 || size > 1_000_000 || correlationId !== PROBE_CORRELATION_ID) {
    return { state: 'foreign', detail: `${where} answered, but not with the Kafka protocol` };
  }
  if (received.length < 4 + size) return undefined;
  const errorCode = received.readInt16BE(8);
  const apiCount = received.readInt32BE(10);
  if (errorCode !== 0 || apiCount <= 0) {
    return { state: 'foreign', detail: `${where} answered ApiVersions with error code ${errorCode}` };
  }
  return { state: 'answers', detail: `Kafka protocol, ${apiCount} APIs` };
}

export function probeKafka(host: string, port: number, timeoutMs = 2000, secure?: ProbeTls): Promise<ProbeResult> {
  const where = `${host}:${port}`;
  return exchange(
    host,
    port,
    timeoutMs,
    { request: kafkaApiVersionsRequest(), judge: (received) => judgeKafkaAnswer(received, where) },
    secure,
  );
}

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

/** Any TCP listener at all (used for the controller port, which speaks no public protocol). */
export function portInUse(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (inUse: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(inUse);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('connect', () => done(true));
    socket.on('error', () => done(false));
  });
}
