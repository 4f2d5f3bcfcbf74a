/** Is a Kafka broker there? An ApiVersions exchange, no client library (see ../probe.ts). */
import { hostPort, type KafkaSecurity } from '../../config/config.js';
import { exchange, type ProbeResult, type ProbeTls, type ServiceCheck } from '../probe.js';

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

/** Probes each broker with the pipeline's own TLS settings (a TLS listener does not answer a plain probe). */
export function probeBrokers(brokers: string[], timeoutMs: number, security?: KafkaSecurity): Promise<ProbeResult[]> {
  return Promise.all(brokers.map((b) => probeKafka(hostPort(b).host, hostPort(b).port, timeoutMs, security?.tls)));
}

/** Kafka is up when any configured broker answers; the detail says what each one said. */
export async function checkKafka(
  brokers: string[],
  timeoutMs: number,
  security?: KafkaSecurity,
): Promise<ServiceCheck> {
  const probes = await probeBrokers(brokers, timeoutMs, security);
  return { up: probes.some((p) => p.state === 'answers'), detail: probes.map((p) => p.detail).join('; ') };
}
