#!/usr/bin/env node
// The `mqtt-xds` command: parses configuration, runs the control plane, stops on SIGTERM.
import { helpText, loadConfig } from './config';
import { DRAIN_USAGE, parseDrainArgs, runDrain } from './drain-command';
import { ControlPlane } from './main';
import { createLogger } from './util/log';
import { formatProblems } from './util/result';
import { ConfigError, tokenFromFile } from './util/token-file';

const USAGE = `mqtt-xds: an Envoy xDS control plane for MQTT broker clusters

Usage: mqtt-xds [options]
       mqtt-xds drain <broker> [--wait] [--cancel] ...   (see mqtt-xds drain --help)

Envoy connects over ADS (gRPC) and receives the MQTT listener, the broker cluster and
its weighted endpoints. Brokers come from a watched YAML file (--discovery-brokers-file).
`;

async function main(): Promise<number> {
  if (process.argv[2] === 'drain') return drain(process.argv.slice(3));
  const loaded = loadConfig({ argv: process.argv.slice(2), env: process.env, cwd: process.cwd() });
  if (!loaded.ok) {
    process.stderr.write(`mqtt-xds: invalid configuration: ${formatProblems(loaded.problems)}\n`);
    process.stderr.write('Run mqtt-xds --help for the settings.\n');
    return 2;
  }
  if (loaded.value.help) {
    process.stdout.write(USAGE + '\n' + helpText() + '\n');
    return 0;
  }
  if (loaded.value.positional.length > 0) {
    process.stderr.write(`mqtt-xds: unexpected argument "${loaded.value.positional[0]}"; see --help\n`);
    return 2;
  }
  const { config } = loaded.value;
  // Files the settings name are read now, so a missing one is a configuration error, not a crash later.
  const fileProblems = [
    tokenFromFile(config.admin.tokenFile, 'admin.tokenFile').problem,
    tokenFromFile(config.agent.tokenFile, 'agent.tokenFile').problem,
  ].filter((p) => p !== undefined);
  if (fileProblems.length > 0) {
    process.stderr.write(`mqtt-xds: invalid configuration: ${formatProblems(fileProblems)}\n`);
    return 2;
  }
  const log = createLogger(config.logLevel, { component: 'mqtt-xds' });
  const plane = new ControlPlane({ config, logger: log });
  await plane.start();
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      log.info('shutting down', { signal });
      resolve();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
  await plane.stop();
  return 0;
}

async function drain(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    process.stdout.write(DRAIN_USAGE);
    return 0;
  }
  const args = parseDrainArgs(argv, process.env);
  if (typeof args === 'string') {
    process.stderr.write(`mqtt-xds drain: ${args}\n${DRAIN_USAGE}`);
    return 2;
  }
  const line = (stream: NodeJS.WriteStream) => (text: string) => void stream.write(text + '\n');
  return runDrain(args, line(process.stdout), line(process.stderr));
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`mqtt-xds: invalid configuration: ${formatProblems(err.problems)}\n`);
      process.exit(2);
    }
    process.stderr.write(`mqtt-xds: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
