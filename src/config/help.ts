import { valueHint } from './setting-fields';
import { COMMAND_ENV, CONFIG_ENV, CONFIG_FLAG, SETTINGS } from './settings';

/** Every setting with its flag, environment variable, default and meaning; for --help. */
export function helpText(): string {
  const lines = [
    'Settings (precedence: flag > environment > config file > default).',
    'Flags take "--flag VALUE" or "--flag=VALUE"; "--" ends them. Config file keys are the dotted names, nested in YAML.',
    '',
    `  ${CONFIG_FLAG} FILE`,
    `      env ${CONFIG_ENV}`,
    '      YAML config file; relative to the working directory.',
    '  -h, --help',
    '      Print this help and exit.',
    '  -V, --version',
    '      Print the version and exit.',
  ];
  for (const s of SETTINGS) {
    lines.push(
      `  ${s.flag} ${valueHint(s.type)}`,
      `      env ${s.env}, file key ${s.key}, default ${String(s.default)}`,
      `      ${s.help}`,
    );
  }
  lines.push('', 'Read by sub-commands only (the server accepts and ignores them):');
  for (const [name, help] of Object.entries(COMMAND_ENV)) lines.push(`  env ${name}`, `      ${help}`);
  return lines.join('\n') + '\n';
}
