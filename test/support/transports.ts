/**
 * Real servers for the transport tests, each started on a free port by the test and stopped by its
 * pid: an SMTP server (aiosmtpd, test/support/smtp-server.py) and an MQTT broker (mosquitto).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor } from './cli.js';

const SMTP_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'smtp-server.py');

/** A server process the test started: stopped by its pid (SIGTERM, then SIGKILL). */
export class ServerProcess {
  output = '';
  readonly exited: Promise<number | null>;
  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8').on('data', (c: string) => (this.output += c));
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (this.output += c));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid!;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    process.kill(this.pid, 'SIGTERM');
    const stopped = await Promise.race([this.exited.then(() => true), new Promise((r) => setTimeout(r, 3000, false))]);
    if (!stopped) {
      process.kill(this.pid, 'SIGKILL');
      await this.exited;
    }
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface ReceivedMail {
  from: string;
  to: string[];
  messageId: string;
  subject: string;
  fromHeader: string;
}

export class SmtpServer extends ServerProcess {
  constructor(
    child: ChildProcess,
    readonly port: number,
    readonly file: string,
    private readonly dir: string,
  ) {
    super(child);
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** Every message accepted so far, in order. */
  messages(): ReceivedMail[] {
    if (!existsSync(this.file)) return [];
    return readFileSync(this.file, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as ReceivedMail);
  }

  override async stop(): Promise<void> {
    await super.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Stops the server by its pid, keeping what it received: nothing listens on its port until {@link restart}. */
  async halt(): Promise<void> {
    await super.stop();
  }

  /** The server again, on the same port, appending to the same file: a new process, stopped by {@link stop}. */
  async restart(refuse: readonly string[] = []): Promise<SmtpServer> {
    const child = spawnSmtp(this.port, this.file, refuse);
    const again = new SmtpServer(child, this.port, this.file, this.dir);
    await waitFor(`the SMTP server on port ${this.port} again`, () => again.output.includes('ready'), 15_000).catch(
      async (error: Error) => {
        await again.stop();
        throw new Error(`${error.message}\n${again.output}`);
      },
    );
    return again;
  }
}

function spawnSmtp(port: number, file: string, refuse: readonly string[]): ChildProcess {
  return spawn('/usr/bin/python3', [SMTP_SCRIPT, String(port), file, refuse.join(',')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** A real SMTP server (aiosmtpd) on a free port; `refuse`: recipients it answers 550. */
export async function startSmtpServer(refuse: readonly string[] = []): Promise<SmtpServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'etui-smtp-'));
  const port = await freePort();
  const file = path.join(dir, 'messages.jsonl');
  const child = spawnSmtp(port, file, refuse);
  const server = new SmtpServer(child, port, file, dir);
  await waitFor(`the SMTP server on port ${port}`, () => server.output.includes('ready'), 15_000).catch(
    async (error: Error) => {
      await server.stop();
      throw new Error(`${error.message}\n${server.output}`);
    },
  );
  return server;
}

export class MqttBroker extends ServerProcess {
  constructor(
    child: ChildProcess,
    readonly port: number,
  ) {
    super(child);
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }
}

/** A mosquitto of the test's own on a free port (`mosquitto -p <port>`). */
export async function startMosquitto(port?: number): Promise<MqttBroker> {
  const chosen = port ?? (await freePort());
  const bin = existsSync('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : 'mosquitto';
  const child = spawn(bin, ['-p', String(chosen)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const broker = new MqttBroker(child, chosen);
  await waitFor(`mosquitto on port ${chosen}`, () => listening(chosen), 15_000).catch(async (error: Error) => {
    await broker.stop();
    throw new Error(`${error.message}\n${broker.output}`);
  });
  return broker;
}

/** A webhook receiver on a free port of 127.0.0.1: answers 204 and counts each `webhook-id` it receives. */
export interface WebhookReceiver {
  url: string;
  /** How many times each `webhook-id` arrived. */
  counts: Map<string, number>;
  /** Requests received, repeats included. */
  received(): number;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const counts = new Map<string, number>();
  let total = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = String(req.headers['webhook-id']);
      counts.set(id, (counts.get(id) ?? 0) + 1);
      total++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    counts,
    received: () => total,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
