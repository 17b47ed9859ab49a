import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CAPACITY_BROKER_FLAGS,
  capacityBrokerArgs,
  capacityBrokerUsage,
  parseCapacityBrokerArgs,
} from '../../tools/testbroker/capacity-config';
import { DEFAULT_CPU_MODEL } from '../../tools/testbroker/capacity-cpu';
import { DEFAULT_PROXY_CONFIG } from '../../tools/testbroker/proxy-flags';
import { formatProblems } from '../../../src/util/result';

describe('capacity broker flags', () => {
  it('fills in defaults around the required capacity', () => {
    const parsed = parseCapacityBrokerArgs(['--name', 'b1', '--capacity', '1000', '--noise=0.2']);
    expect(parsed).toEqual({
      ok: true,
      value: {
        help: false,
        options: {
          name: 'b1',
          host: '127.0.0.1',
          port: 0,
          metricsPort: 0,
          capacity: 1000,
          connectionCost: 1,
          messageCost: 1,
          windowMs: 5000,
          tickMs: 100,
          noise: 0.2,
          seed: 1,
          cores: 1,
          // The CPU model's defaults: the ideal model, read over the limit.
          ...DEFAULT_CPU_MODEL,
          // The PROXY protocol is off unless asked for.
          ...DEFAULT_PROXY_CONFIG,
          // No cluster link (clusterPort unset) unless asked for; its queue bound is always set.
          clusterQueue: 10_000,
        },
      },
    });
  });

  it('explains every problem at once', () => {
    const parsed = parseCapacityBrokerArgs(['--capcity', '5', '--port', 'x', '--noise', '1', '--seed']);
    expect(parsed.ok).toBe(false);
    const text = parsed.ok ? '' : formatProblems(parsed.problems);
    expect(text).toContain('--capcity: unknown flag (did you mean "--capacity"?)');
    expect(text).not.toContain('5: unknown flag');
    expect(text).toContain('--port: expected an integer, got "x"');
    expect(text).toContain('--noise: must be ≥ 0 and < 1, got 1');
    expect(text).toContain('--seed: needs a value');
    expect(text).toContain('--capacity: is required');
  });

  it('rejects a zero capacity', () => {
    const parsed = parseCapacityBrokerArgs(['--capacity', '0']);
    expect(parsed.ok ? '' : formatProblems(parsed.problems)).toContain('--capacity: must be > 0');
  });

  it('round-trips options through the launcher’s argument list', () => {
    const args = capacityBrokerArgs({ name: 'b2', capacity: 250, windowMs: 2000, noise: 0.1 });
    expect(args).toEqual(['--name', 'b2', '--capacity', '250', '--window-ms', '2000', '--noise', '0.1']);
    const parsed = parseCapacityBrokerArgs(args);
    expect(parsed.ok && !parsed.value.help && parsed.value.options).toMatchObject({ name: 'b2', capacity: 250, windowMs: 2000 });
  });

  it('takes an optional agent token, absent unless given, and refuses an empty one', () => {
    const without = parseCapacityBrokerArgs(['--capacity', '1']);
    expect(without.ok && !without.value.help && 'agentToken' in without.value.options).toBe(false);
    const args = capacityBrokerArgs({ capacity: 1, agentToken: 's3cret' });
    expect(args).toEqual(['--capacity', '1', '--agent-token', 's3cret']);
    const parsed = parseCapacityBrokerArgs(args);
    expect(parsed.ok && !parsed.value.help && parsed.value.options.agentToken).toBe('s3cret');
    const empty = parseCapacityBrokerArgs(['--capacity', '1', '--agent-token=']);
    expect(empty.ok ? '' : formatProblems(empty.problems)).toContain('--agent-token: must not be empty');
    expect(capacityBrokerUsage()).toMatch(/--agent-token <text> .*\(optional\)/);
  });

  it('takes the CPU model and view by name, with a suggestion for a misspelt one', () => {
    const parsed = parseCapacityBrokerArgs(['--capacity', '1', '--cpu-model', 'realistic', '--cpu-view=rounded', '--cores', '0.25']);
    expect(parsed.ok && !parsed.value.help && parsed.value.options).toMatchObject({
      cpuModel: 'realistic',
      cpuView: 'rounded',
      cores: 0.25,
    });
    const bad = parseCapacityBrokerArgs(['--capacity', '1', '--cpu-view', 'hots']);
    expect(bad.ok ? '' : formatProblems(bad.problems)).toContain(
      '--cpu-view: expected one of limit, host, rounded, got "hots" (did you mean "host"?)',
    );
    expect(capacityBrokerUsage()).toContain('--cpu-model <ideal|realistic>');
  });

  it('refuses spikes whose minimum exceeds their maximum, and a host smaller than the limit', () => {
    const parsed = parseCapacityBrokerArgs([
      '--capacity',
      '1',
      '--cpu-spike-min',
      '0.6',
      '--cpu-view',
      'host',
      '--cores',
      '4',
      '--host-cores',
      '2',
    ]);
    const text = parsed.ok ? '' : formatProblems(parsed.problems);
    expect(text).toContain('--cpu-spike-min: must not exceed --cpu-spike-max (0.5), got 0.6');
    expect(text).toContain('--host-cores: must be at least --cores (4) with --cpu-view host, got 2');
  });

  it('takes the PROXY protocol mode and its bounds, off by default', () => {
    const parsed = parseCapacityBrokerArgs([
      '--capacity',
      '1',
      '--proxy-protocol',
      'required',
      '--proxy-max-header-bytes=512',
      '--proxy-header-timeout-ms',
      '250',
      '--proxy-history',
      '5',
    ]);
    expect(parsed.ok && !parsed.value.help && parsed.value.options).toMatchObject({
      proxyProtocol: 'required',
      proxyMaxHeaderBytes: 512,
      proxyHeaderTimeoutMs: 250,
      proxyHistory: 5,
    });
    expect(DEFAULT_PROXY_CONFIG).toEqual({
      proxyProtocol: 'off',
      proxyMaxHeaderBytes: 4096,
      proxyHeaderTimeoutMs: 3000,
      proxyHistory: 10_000,
    });
    expect(capacityBrokerArgs({ capacity: 1, proxyProtocol: 'optional' })).toEqual(['--capacity', '1', '--proxy-protocol', 'optional']);
  });

  it('refuses an unknown PROXY mode and a header limit below what a v1 line or UNIX addresses need', () => {
    const parsed = parseCapacityBrokerArgs(['--capacity', '1', '--proxy-protocol', 'requried', '--proxy-max-header-bytes', '100']);
    const text = parsed.ok ? '' : formatProblems(parsed.problems);
    expect(text).toContain('--proxy-protocol: expected one of off, required, optional, got "requried" (did you mean "required"?)');
    expect(text).toContain('--proxy-max-header-bytes: must be ≥ 232 and ≤ 65551, got 100');
  });

  it('has every flag in the docs/test-broker.md flags table', () => {
    const doc = readFileSync(join(__dirname, '../../../docs/test-broker.md'), 'utf8');
    const rows = doc.split('\n').filter((line) => line.startsWith('| `--'));
    const missing = CAPACITY_BROKER_FLAGS.filter((f) => !rows.some((row) => row.includes(`\`${f.flag}\``))).map((f) => f.flag);
    expect(missing).toEqual([]);
  });

  it('answers --help with a usage listing every flag', () => {
    expect(parseCapacityBrokerArgs(['--capacity', '1', '--help'])).toEqual({ ok: true, value: { help: true } });
    expect(capacityBrokerUsage()).toMatch(/--capacity <n> .*\(required\)/);
    expect(capacityBrokerUsage()).toContain('--metrics-port');
  });
});
