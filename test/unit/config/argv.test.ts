import { parseArgv, stringOption, type OptionSpecs } from '../../../src/config/argv';

const SPECS: OptionSpecs = {
  'admin-url': { type: 'string' },
  output: { type: 'string', short: 'o' },
  wait: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

describe('parseArgv', () => {
  it('takes a value after the flag or joined with "="', () => {
    const a = parseArgv(['--admin-url', 'http://a:1', 'b1'], SPECS);
    const b = parseArgv(['b1', '--admin-url=http://a:1'], SPECS);
    for (const p of [a, b]) {
      expect(stringOption(p, 'admin-url')).toBe('http://a:1');
      expect(p.positionals).toEqual(['b1']);
      expect(p.problems).toEqual([]);
    }
  });

  it('reads short flags, alone or with a value', () => {
    const p = parseArgv(['-h', '-o', 'json'], SPECS);
    expect(p.values.get('help')).toEqual({ value: true, flag: '-h' });
    expect(stringOption(p, 'output')).toBe('json');
  });

  it('ends the options at "--"', () => {
    const p = parseArgv(['--wait', '--', '--admin-url', '-h'], SPECS);
    expect(p.positionals).toEqual(['--admin-url', '-h']);
    expect(p.values.has('help')).toBe(false);
    expect(p.problems).toEqual([]);
  });

  it('keeps the last of a repeated option', () => {
    expect(stringOption(parseArgv(['--output', 'yaml', '--output=json'], SPECS), 'output')).toBe('json');
  });

  it('names an unknown flag and the nearest known one', () => {
    const p = parseArgv(['--wiat', 'x'], SPECS);
    expect(p.problems).toEqual([{ kind: 'unknown', flag: '--wiat', message: 'unknown option --wiat (did you mean "--wait"?)' }]);
    expect(p.positionals).toEqual(['x']);
  });

  it('suggests the flag that ends with the words typed before the one fewest edits away', () => {
    const specs: OptionSpecs = {
      config: { type: 'string' },
      'discovery-kubernetes-kubeconfig': { type: 'string' },
      'listener-tls-cert-file': { type: 'string' },
      'xds-tls-cert-file': { type: 'string' },
    };
    const hint = (flag: string): string => parseArgv([flag, 'x'], specs).problems[0].message;
    expect(hint('--kubeconfig')).toBe('unknown option --kubeconfig (did you mean "--discovery-kubernetes-kubeconfig"?)');
    expect(hint('--cert-file')).toBe('unknown option --cert-file (did you mean one of "--listener-tls-cert-file", "--xds-tls-cert-file"?)');
    expect(hint('--confg')).toBe('unknown option --confg (did you mean "--config"?)');
  });

  it('names a flag missing its value, at the end or before another flag', () => {
    expect(parseArgv(['--admin-url'], SPECS).problems).toEqual([
      { kind: 'missing-value', flag: '--admin-url', message: 'option --admin-url needs a value' },
    ]);
    const p = parseArgv(['--admin-url', '--output', 'json'], SPECS);
    expect(p.problems.map((x) => x.flag)).toEqual(['--admin-url']);
    // The flag taken for a value is read as the flag it is.
    expect(stringOption(p, 'output')).toBe('json');
    expect(p.values.has('admin-url')).toBe(false);
  });

  it('takes a value that starts with a single dash, and one starting with "--" only after "="', () => {
    expect(stringOption(parseArgv(['--admin-url', '-5'], SPECS), 'admin-url')).toBe('-5');
    expect(stringOption(parseArgv(['--admin-url=--x'], SPECS), 'admin-url')).toBe('--x');
  });

  it('refuses a value given to a switch', () => {
    expect(parseArgv(['--wait=yes'], SPECS).problems).toEqual([
      { kind: 'unexpected-value', flag: '--wait', message: 'option --wait takes no value, got "yes"' },
    ]);
  });

  it('names each unknown letter of grouped short flags', () => {
    expect(parseArgv(['-xy'], SPECS).problems.map((p) => p.flag)).toEqual(['-x', '-y']);
  });
});
