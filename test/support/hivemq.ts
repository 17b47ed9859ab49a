import { spawn } from 'node:child_process';
import { spawnChild } from './children';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { LineRing, awaitReady, captureOutput, stopChild } from '../../src/util/child-process';
import { freePort } from './ports';
import { REPO_ROOT } from './repo-root';

// Real HiveMQ CE with the mqtt-xds agent extension, run by the Java launcher that
// scripts/setup-agent builds (agent/hivemq-extension, docs/hivemq-agent.md).

const AGENT_DIR = path.join(REPO_ROOT, 'agent', 'hivemq-extension');
const LAUNCHER_DIR = path.join(AGENT_DIR, 'target', 'launcher');
const CLASSPATH_FILE = path.join(LAUNCHER_DIR, 'classpath.txt');
const CLASS_ARCHIVE = path.join(LAUNCHER_DIR, 'hivemq.jsa');
const JVM_OPTIONS = path.join(AGENT_DIR, 'src', 'launcher', 'jvm.options');
const LAUNCHER_MAIN = 'io.mqttxds.agent.launcher.HiveMQLauncher';

export interface StartHiveMQOptions {
  /**
   * The agent's shared token (at least 16 characters), passed in the environment, never
   * in argv. null starts HiveMQ without one (the agent must then refuse to start).
   */
  readonly token: string | null;
  /**
   * Load the release zip (target/*-extension.zip) from HiveMQ's extensions folder, as on a
   * real broker, with the token in a file (MQTT_XDS_AGENT_TOKEN_FILE), instead of the
   * embedded extension. Default false.
   */
  readonly packaged?: boolean;
  /** Reported by the agent's health endpoint. Default "hivemq-test". */
  readonly brokerName?: string;
  /** Serve the agent over HTTPS with these PEM files (MQTT_XDS_AGENT_TLS_*); clientCaFile requires callers' certificates. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly clientCaFile?: string };
  /** A cold JVM on a busy 2-core machine needs a while. Default 60 s. */
  readonly startTimeoutMs?: number;
}

export interface HiveMQBroker {
  /** The JVM's process id. */
  readonly pid: number;
  /** MQTT over TCP on 127.0.0.1. */
  readonly mqttPort: number;
  readonly mqttUrl: string;
  /** Base URL of the agent API, e.g. http://127.0.0.1:41234 (paths start with /agent/v1/). */
  readonly agentUrl: string;
  readonly metricsUrl: string;
  /** Wall time from spawning the JVM to its ready line (HiveMQ and the agent started). */
  readonly startupMs: number;
  /** HiveMQ's recent log lines, for failure messages. */
  logs(): string;
  /** SIGTERM, then SIGKILL after 15 s; resolves once the JVM has exited. Safe to call twice. */
  stop(): Promise<void>;
}

interface ReadyMessage {
  type: 'ready';
  mqttPort: number;
  agentPort: number;
  /** From the launcher's main() to ready; the JVM's own start comes on top. */
  startupMs: number;
}

/** True when scripts/setup-agent has built the launcher. */
export function hivemqLauncherBuilt(): boolean {
  return fs.existsSync(CLASSPATH_FILE);
}

/**
 * Starts one HiveMQ CE with the agent on 127.0.0.1 and resolves once HiveMQ accepts MQTT
 * connections; the agent does too unless it refused to start (see `token`).
 */
export async function startHiveMQ(options: StartHiveMQOptions): Promise<HiveMQBroker> {
  if (!hivemqLauncherBuilt()) {
    throw new Error(`the HiveMQ test launcher is not built (${CLASSPATH_FILE} is missing); run scripts/setup-agent`);
  }
  // A port found free can be taken before HiveMQ binds it; that alone is worth another try.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      const portTaken = err instanceof Error && /already in use/i.test(err.message);
      if (!portTaken || attempt >= 3) throw err;
    }
  }
}

async function startOnce(options: StartHiveMQOptions): Promise<HiveMQBroker> {
  const mqttPort = await freePort();
  const packaged = options.packaged ? await packagedSetup(options) : undefined;
  const args = [
    ...jvmArgs(!packaged),
    '-cp',
    launcherClasspath(!packaged),
    LAUNCHER_MAIN,
    ...launcherArgs(mqttPort, options),
    ...(packaged?.args ?? ['--agent-port', '0']),
  ];
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('MQTT_XDS_AGENT_')) delete env[name];
  if (packaged) Object.assign(env, packaged.env);
  else if (options.token !== null) env.MQTT_XDS_AGENT_TOKEN = options.token;
  if (options.tls) {
    env.MQTT_XDS_AGENT_TLS_CERT_FILE = options.tls.certFile;
    env.MQTT_XDS_AGENT_TLS_KEY_FILE = options.tls.keyFile;
    if (options.tls.clientCaFile) env.MQTT_XDS_AGENT_TLS_CLIENT_CA_FILE = options.tls.clientCaFile;
  }
  const spawnedAt = performance.now();
  const child = spawnChild('java', args, {
    env,
    // stdin stays open: the launcher stops HiveMQ when it closes, so a test process that
    // dies without stopping it cannot leave a broker behind.
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // Like the other pipes (see track): an open stdin must not keep the test process alive.
  (child.stdin as { unref?: () => void } | null)?.unref?.();
  const ring = new LineRing(300);
  captureOutput(child, ring);
  forwardProtocolLines(child);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= stopChild(child, { graceMs: 15_000 }).finally(() => packaged?.cleanup()));

  const ready = await awaitReady<ReadyMessage>(child, {
    what: 'HiveMQ (agent launcher)',
    timeoutMs: options.startTimeoutMs ?? 60_000,
    // A clean stop takes about 4 s (and removes the launcher's temporary folder).
    abort: () => stopChild(child, { graceMs: 6000 }).finally(() => packaged?.cleanup()),
    output: () => ring.text(),
  });
  const agentUrl = `${options.tls ? 'https' : 'http'}://127.0.0.1:${ready.agentPort}`;
  return {
    pid: child.pid!,
    mqttPort: ready.mqttPort,
    mqttUrl: `mqtt://127.0.0.1:${ready.mqttPort}`,
    agentUrl,
    metricsUrl: `${agentUrl}/metrics`,
    startupMs: Math.round(performance.now() - spawnedAt),
    logs: () => ring.text(),
    stop,
  };
}

interface PackagedSetup {
  /** The zip and the agent port, for the launcher. */
  args: string[];
  env: NodeJS.ProcessEnv;
  cleanup(): void;
}

/** The zip to load, a fixed agent port (the launcher cannot learn a free one from HiveMQ), and a token file. */
async function packagedSetup({ token, brokerName }: StartHiveMQOptions): Promise<PackagedSetup> {
  const target = path.join(AGENT_DIR, 'target');
  const zip = fs.readdirSync(target).find((f) => /^mqtt-xds-hivemq-agent-.*-extension\.zip$/.test(f));
  if (!zip) throw new Error(`no extension zip in ${target}; run scripts/setup-agent`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqtt-xds-agent-token-'));
  const env: NodeJS.ProcessEnv = { MQTT_XDS_AGENT_BROKER_NAME: brokerName ?? 'hivemq-test' };
  if (token !== null) {
    const file = path.join(dir, 'token');
    // As a Secret mount would hold it: a trailing newline, readable by the owner only.
    fs.writeFileSync(file, `${token}\n`, { mode: 0o600 });
    env.MQTT_XDS_AGENT_TOKEN_FILE = file;
  }
  return {
    args: ['--packaged-extension', path.join(target, zip), '--agent-port', String(await freePort())],
    env,
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * The launcher's classpath. For the packaged extension the agent's own jar is left out:
 * HiveMQ must load the agent from the zip alone, and a second copy on the classpath would
 * make it see two ExtensionMain implementations and disable the extension.
 */
function launcherClasspath(withAgentJar: boolean): string {
  const entries = fs.readFileSync(CLASSPATH_FILE, 'utf8').trim().split(path.delimiter);
  const agentJar = /[\\/]mqtt-xds-hivemq-agent-[^\\/]*(?<!-tests)\.jar$/;
  return entries.filter((e) => withAgentJar || !agentJar.test(e)).join(path.delimiter);
}

function jvmArgs(useClassArchive: boolean): string[] {
  // The class-data archive only helps, and only for the classpath it was recorded with; the
  // JVM ignores one that does not match (e.g. after a Java update) and says so on stderr.
  const archive = useClassArchive && fs.existsSync(CLASS_ARCHIVE) ? [`-XX:SharedArchiveFile=${CLASS_ARCHIVE}`] : [];
  return [`@${JVM_OPTIONS}`, ...archive];
}

function launcherArgs(mqttPort: number, options: StartHiveMQOptions): string[] {
  return ['--mqtt-port', String(mqttPort), '--broker-name', options.brokerName ?? 'hivemq-test', '--exit-on-stdin-close'];
}

/**
 * The launcher speaks JSON lines on stdout ({type: 'ready' | 'error', ...}); they are
 * re-emitted as 'message' events so awaitReady treats the JVM like a forked Node child.
 */
function forwardProtocolLines(child: ReturnType<typeof spawn>): void {
  if (!child.stdout) return;
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    try {
      child.emit('message', JSON.parse(line));
    } catch {
      // Not a protocol line; captureOutput keeps it for the error message.
    }
  });
}
