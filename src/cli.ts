#!/usr/bin/env node
// The `mqtt-xds` command: runs the control plane (parses configuration, stops on SIGTERM),
// or one of the operator's sub-commands, which talk to a running one's admin port.
import { helpText, loadConfig } from './config';
import { SUB_COMMANDS, subCommand, type CommandIo } from './commands';
import { ControlPlane } from './main';
import { createLogger } from './util/log';
import { formatProblems } from './util/result';
import { ConfigError, tokenFromFile } from './util/token-file';
import { productVersion } from './util/version';

const USAGE = `mqtt-xds: an Envoy xDS control plane for MQTT broker clusters

Usage: mqtt-xds [options]              run the control plane
       mqtt-xds <command> [options]    talk to a running one (mqtt-xds <command> --help)
       mqtt-xds --version

Commands:
${SUB_COMMANDS.map((c) => `  ${c.name.padEnd(14)}${c.summary}`).join('\n')}

Envoy connects over ADS (gRPC) and receives the MQTT listener, the broker cluster and
its weighted endpoints. Brokers come from a watched YAML file (--discovery-brokers-file).
`;

type Line = (text: string) => void;
const line =
  (stream: NodeJS.WriteStream): Line =>
  (text) =>
    void stream.write(text + '\n');
const out = line(process.stdout);
const err = line(process.stderr);

const io: CommandIo = {
  out,
  err,
  ...(process.stdout.isTTY ? { terminal: { write: (t: string) => void process.stdout.write(t), columns: process.stdout.columns } } : {}),
};

async function main(): Promise<number> {
  // A sub-command is the first word; anything else runs the server.
  const command = subCommand(process.argv[2]);
  if (command) return command.run(process.argv.slice(3), process.env, io);
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
  if (loaded.value.version) {
    out(`mqtt-xds ${productVersion()}`);
    return 0;
  }
  if (loaded.value.positional.length > 0) {
    const word = loaded.value.positional[0];
    process.stderr.write(
      `mqtt-xds: unexpected argument "${word}"; the commands are ${SUB_COMMANDS.map((c) => c.name).join(', ')}; see --help\n`,
    );
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

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    if (e instanceof ConfigError) {
      process.stderr.write(`mqtt-xds: invalid configuration: ${formatProblems(e.problems)}\n`);
      process.exit(2);
    }
    process.stderr.write(`mqtt-xds: ${e.stack ?? e.message}\n`);
    process.exit(1);
  },
);
