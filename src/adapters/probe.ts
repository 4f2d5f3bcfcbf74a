/**
 * Cheap, quiet probes that tell "nothing listens", "the expected server answers"
 * and "something else holds the port" apart, without a client library's retries
 * or log noise. Each service's own exchange is with its adapter: kafka/probe.ts,
 * redis/probe.ts.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

export type ProbeResult =
  { state: 'closed'; detail: string } | { state: 'answers'; detail: string } | { state: 'foreign'; detail: string };

export interface Exchange {
  request: Buffer;
  /** Returns a verdict once enough bytes arrived, or undefined to keep reading. */
  judge(received: Buffer): ProbeResult | undefined;
}

/** A service, probed: `up` when it answers its protocol; `detail` says what was found. */
export interface ServiceCheck {
  up: boolean;
  detail: string;
}

/** TLS settings for a probe: `ca` a PEM file to trust (else the system's roots). */
export interface ProbeTls {
  ca?: string | undefined;
}

/** Sends `ex.request` and reads until `ex.judge` decides, the connection ends or `timeoutMs` passes. */
export function exchange(
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
