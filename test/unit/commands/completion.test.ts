// The completion script run by a real bash: what it offers after each word.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SUB_COMMANDS } from '../../../src/commands';
import { bashCompletion, zshCompletion } from '../../../src/commands/completion';
import { SETTINGS } from '../../../src/config';

const script = join(mkdtempSync(join(tmpdir(), 'mqtt-xds-completion-')), 'mqtt-xds.bash');
writeFileSync(script, bashCompletion(SUB_COMMANDS, SETTINGS));

/** What bash offers for the words typed so far (the last one being completed). */
function complete(...words: string[]): string[] {
  const program = `source ${JSON.stringify(script)}; COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')}); COMP_CWORD=${words.length - 1}; _mqtt_xds; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return execFileSync('bash', ['-c', program], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
}

describe('bash completion', () => {
  it('offers the sub-commands first', () => {
    expect(complete('mqtt-xds', 'pr')).toEqual(['proxy-status']);
    expect(complete('mqtt-xds', 'co')).toEqual(['completion', 'config-dump']);
  });

  it("offers a sub-command's flags and its --output formats", () => {
    expect(complete('mqtt-xds', 'drain', 'b1', '--w')).toEqual(['--wait']);
    expect(complete('mqtt-xds', 'config-dump', '--output', '')).toEqual(['json', 'yaml']);
    expect(complete('mqtt-xds', 'status', '-o', 'j')).toEqual(['json']);
    expect(complete('mqtt-xds', 'completion', '')).toEqual(['bash', 'zsh']);
  });

  it("offers the server's settings and an enum setting's values", () => {
    expect(complete('mqtt-xds', '--xds-port', '1', '--xds-ho')).toEqual(['--xds-host']);
    expect(complete('mqtt-xds', '--xds-port', '1', '--log-level', '')).toEqual(['debug', 'error', 'info', 'warn']);
  });

  it('is loaded by zsh through bashcompinit', () => {
    const zsh = zshCompletion(SUB_COMMANDS, SETTINGS);
    expect(zsh.startsWith('#compdef mqtt-xds\n')).toBe(true);
    expect(zsh).toContain('bashcompinit');
    expect(zsh).toContain('complete -F _mqtt_xds mqtt-xds');
  });
});
