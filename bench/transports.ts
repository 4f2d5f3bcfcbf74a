/**
 * The real transports against local servers: sends/s and CPU per send, each send through the routing
 * provider as the consumer makes it (chunks of 1,000 in one `sendMany`, three at once as the consumer
 * works on three partitions, their idempotency records read and written in a redis-server of the
 * bench's own), each server in a process of its own:
 *  - SMTP: aiosmtpd (test/support/smtp-server.py, recording every message), nodemailer's pool;
 *  - webhook: a Node http server answering 204, keep-alive connections (an undici Pool);
 *  - MQTT: a mosquitto, QoS 1 publishes (accepted on PUBACK).
 * `npm run bench -- --only transports` runs it alone (BENCH_TRANSPORT_SCALE multiplies the sends, default 1).
 * Targets on 2 cores, the server local: SMTP ≥ 1,000 messages/s, webhook ≥ 5,000/s, MQTT ≥ 20,000/s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  createRedis,
  MqttTransport,
  RoutingProvider,
  SmtpTransport,
  WebhookTransport,
  type Transport,
} from '../src/index.js';
import { freePort, log, procCpuSeconds, root, sleep, type Row } from './common.js';
import { privateRedis } from './cpu-per-event.js';

const SCALE = Number(process.env.BENCH_TRANSPORT_SCALE ?? '1') || 1;
const CHUNK = 1000;
/** Chunks in flight at once: the consumer works on up to 3 partitions at a time (partitionsConsumedConcurrently). */
const PARTITIONS = 3;

async function listening(port: number, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (up) return;
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${port}`);
    await sleep(50);
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(3000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

interface Server {
  child: ChildProcess;
  url: string;
  cleanup?: () => void;
}

async function smtpServer(): Promise<Server> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'etui-bench-smtp-'));
  const child = spawn(
    '/usr/bin/python3',
    [path.join(root, 'test', 'support', 'smtp-server.py'), String(port), path.join(dir, 'm.jsonl')],
    { stdio: 'ignore' },
  );
  await listening(port, 'aiosmtpd');
  return { child, url: `smtp://127.0.0.1:${port}`, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

async function httpServer(): Promise<Server> {
  const port = await freePort();
  const code = `require('node:http').createServer((q, s) => { q.resume(); q.on('end', () => { s.writeHead(204); s.end(); }); }).listen(${port}, '127.0.0.1').keepAliveTimeout = 60000;`;
  const child = spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
  await listening(port, 'the http server');
  return { child, url: `http://127.0.0.1:${port}/hooks` };
}

async function mosquitto(): Promise<Server> {
  const port = await freePort();
  const child = spawn('/usr/sbin/mosquitto', ['-p', String(port)], { stdio: 'ignore' });
  await listening(port, 'mosquitto');
  return { child, url: `mqtt://127.0.0.1:${port}` };
}

interface Figures {
  sends: number;
  perSecond: number;
  clientCpuUs: number;
  serverCpuUs: number;
}

/** `sends` sends of `channel` through the routing provider, in chunks of 1,000, after a warm-up. */
async function measure(channel: string, transport: Transport, serverPid: number, sends: number): Promise<Figures> {
  const redis = await privateRedis();
  const client = createRedis(redis.url);
  await client.connect();
  const refuse = async (): Promise<never> => {
    throw new Error('no mock in this bench');
  };
  const provider = new RoutingProvider(client, {
    mock: { send: refuse, sendMany: refuse },
    transports: new Map([[channel, transport]]),
  });
  const chunk = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      channel,
      eventId: randomUUID(),
      userId: `user-${String(i % 24).padStart(2, '0')}`,
      address: `user-${i % 24}@example.com`,
      text: `Subject: Your order ord-${i} is confirmed\n\nHello, your order ord-${i} (a kettle, 38.50 USD) is confirmed.`,
      occurredAtMs: Date.now(),
      type: 'item_purchased',
    }));
  try {
    const check = (results: unknown[]): void => {
      const bad = results.find((r) => r !== 'accepted');
      if (bad !== undefined) throw new Error(`${channel}: a send was not accepted: ${String(bad)}`);
    };
    check(await provider.sendMany(chunk(Math.min(500, sends))));
    const chunks = Array.from({ length: Math.ceil(sends / CHUNK) }, (_, i) =>
      chunk(Math.min(CHUNK, sends - i * CHUNK)),
    );
    const serverBefore = procCpuSeconds(serverPid);
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: PARTITIONS }, async () => {
        while (next < chunks.length) check(await provider.sendMany(chunks[next++]!));
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const serverSeconds = procCpuSeconds(serverPid) - serverBefore;
    return {
      sends,
      perSecond: Math.round(sends / seconds),
      clientCpuUs: Math.round((cpu.user + cpu.system) / sends),
      serverCpuUs: Math.round((serverSeconds * 1e6) / sends),
    };
  } finally {
    await provider.close();
    client.disconnect();
    await redis.stop();
  }
}

const row = (what: string, f: Figures, target: number, server: string): Row => [
  what,
  `${f.perSecond.toLocaleString('en-US')} sends/s`,
  `${f.sends.toLocaleString('en-US')} sends in chunks of ${CHUNK}, ${PARTITIONS} at once; ${f.clientCpuUs} µs of our CPU per send (idempotency records in Redis included), ${f.serverCpuUs} µs of ${server}'s; target ≥ ${target.toLocaleString('en-US')}/s ${f.perSecond >= target ? 'met' : 'NOT met'}`,
];

export async function transportsBench(): Promise<Row[]> {
  const rows: Row[] = [];
  {
    log('transports: SMTP (nodemailer pool) to aiosmtpd');
    const server = await smtpServer();
    try {
      const f = await measure(
        'email',
        new SmtpTransport({ url: server.url, from: 'eventstream-tui <notifications@localhost>' }),
        server.child.pid!,
        5_000 * SCALE,
      );
      rows.push(row('email over SMTP, pooled (10 connections)', f, 1_000, 'aiosmtpd'));
    } finally {
      await stopChild(server.child);
      server.cleanup?.();
    }
  }
  {
    log('transports: signed webhooks to a Node http server');
    const server = await httpServer();
    try {
      const secret = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;
      const f = await measure(
        'webhook',
        new WebhookTransport({ url: server.url, secret }),
        server.child.pid!,
        20_000 * SCALE,
      );
      rows.push(
        row('webhook, signed, keep-alive (undici Pool, 16 connections, 64 in flight)', f, 5_000, 'the http server'),
      );
    } finally {
      await stopChild(server.child);
    }
  }
  {
    log('transports: MQTT QoS 1 to mosquitto');
    const server = await mosquitto();
    try {
      const f = await measure('push', new MqttTransport({ url: server.url }), server.child.pid!, 50_000 * SCALE);
      rows.push(row('push over MQTT, QoS 1 (1,000 in flight)', f, 20_000, 'mosquitto'));
    } finally {
      await stopChild(server.child);
    }
  }
  return rows;
}
