import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePrometheusText, type Sample } from '../../../src/scraping';
import type { Problem } from '../../../src/util/result';

const fixture = (name: string): string => readFileSync(join(__dirname, '../../fixtures/metrics', name), 'utf8');

function samples(text: string): Sample[] {
  const r = parsePrometheusText(text);
  if (!r.ok) throw new Error(`expected a good page, got ${JSON.stringify(r.problems)}`);
  return r.value;
}

function problems(text: string, opts?: Parameters<typeof parsePrometheusText>[1]): Problem[] {
  const r = parsePrometheusText(text, opts);
  if (r.ok) throw new Error(`expected problems, got ${r.value.length} samples`);
  return r.problems;
}

const one = (text: string): Sample => {
  const all = samples(text);
  expect(all).toHaveLength(1);
  return all[0];
};

describe('parsePrometheusText on HiveMQ pages', () => {
  it('reads every sample of the Community Edition page with its line', () => {
    const all = samples(fixture('hivemq-ce.txt'));
    expect(all).toHaveLength(31);
    const conn = all.find((s) => s.name === 'com_hivemq_networking_connections_current');
    expect(conn).toMatchObject({ value: 1342, line: 5, labels: {} });
    expect(all.find((s) => s.name === 'com_hivemq_messages_incoming_publish_count')?.value).toBe(52_231_000);
  });

  it('reads summary quantiles written with a trailing comma', () => {
    const all = samples(fixture('hivemq-ce.txt'));
    const quantiles = all.filter((s) => s.name === 'com_hivemq_persistence_executor_client_session_time');
    expect(quantiles.map((s) => s.labels.quantile)).toEqual(['0.5', '0.75', '0.95', '0.98', '0.99', '0.999']);
    expect(quantiles[0]?.value).toBe(0.0001);
    expect(all.find((s) => s.name === 'com_hivemq_persistence_executor_client_session_time_count')?.value).toBe(884213);
  });

  it('keeps NaN samples as NaN', () => {
    const all = samples(fixture('hivemq-ce.txt'));
    expect(all.find((s) => s.name === 'com_hivemq_jvm_memory_pools_Metaspace_usage')?.value).toBeNaN();
  });

  it('reads the Enterprise page including overload protection and system CPU', () => {
    const all = samples(fixture('hivemq-enterprise.txt'));
    const byName = new Map(all.map((s) => [s.name, s.value]));
    expect(byName.get('com_hivemq_overload_protection_level')).toBe(3);
    expect(byName.get('com_hivemq_overload_protection_credits_per_tick')).toBe(30000);
    expect(byName.get('com_hivemq_system_os_global_cpu_total_total')).toBe(62.5);
    expect(byName.get('com_hivemq_cluster_sent_time_count')).toBe(987_654_321);
  });
});

describe('parsePrometheusText values and timestamps', () => {
  it.each([
    ['5.2231E7', 52_231_000],
    ['1.0E-4', 0.0001],
    ['-3', -3],
    ['+7.5', 7.5],
    ['.5', 0.5],
    ['1e3', 1000],
    ['0', 0],
  ])('reads %s as %d', (text, value) => {
    expect(one(`m ${text}\n`).value).toBe(value);
  });

  it('reads NaN, +Inf, -Inf and Inf', () => {
    expect(one('m NaN').value).toBeNaN();
    expect(one('m +Inf').value).toBe(Infinity);
    expect(one('m -Inf').value).toBe(-Infinity);
    expect(one('m Inf').value).toBe(Infinity);
  });

  it('accepts an optional timestamp after the value, negative ones included', () => {
    expect(one('m{a="b"} 12.5 1716279823456').value).toBe(12.5);
    expect(one('m 1 -1000').value).toBe(1);
  });
});

describe('parsePrometheusText labels', () => {
  it('accepts a trailing comma, an empty set and blanks inside the set', () => {
    expect(one('com_hivemq_foo{quantile="0.5",} 1.0').labels).toEqual({ quantile: '0.5' });
    expect(one('m{} 1').labels).toEqual({});
    expect(one('m{ } 1').labels).toEqual({});
    expect(one('m{ a = "x" , b="y", } 1').labels).toEqual({ a: 'x', b: 'y' });
  });

  it('unescapes quotes, backslashes and newlines in label values', () => {
    const s = one(String.raw`m{path="C:\\data\\hivemq",msg="say \"hi\"\nbye",empty=""} 1`);
    expect(s.labels).toEqual({ path: 'C:\\data\\hivemq', msg: 'say "hi"\nbye', empty: '' });
  });

  it('keeps braces, commas and equals signs inside label values as text', () => {
    expect(one('m{q="a,b}=c"} 2').labels).toEqual({ q: 'a,b}=c' });
  });

  it('treats a label called __proto__ as an ordinary label', () => {
    const s = one('m{__proto__="x"} 1');
    expect(s.labels.__proto__).toBe('x');
    expect(Object.keys(s.labels)).toEqual(['__proto__']);
  });

  it('accepts no blank between the label set and the value', () => {
    expect(one('m{a="1"}3').value).toBe(3);
  });
});

describe('parsePrometheusText layout', () => {
  it('handles CRLF line endings, blank lines, tabs and a missing final newline', () => {
    const all = samples('# TYPE a gauge\r\n\r\na 1\r\n   \r\n\tb{x="y",}\t2\r\nc 3');
    expect(all.map((s) => [s.name, s.value, s.line])).toEqual([
      ['a', 1, 3],
      ['b', 2, 5],
      ['c', 3, 6],
    ]);
    expect(all[1]?.labels).toEqual({ x: 'y' });
  });

  it('accepts every metric type and ignores other comments', () => {
    const text = [
      '# some comment',
      '#',
      '# EOF',
      ...['gauge', 'counter', 'summary', 'histogram', 'untyped'].map((t) => `# TYPE m_${t} ${t}`),
      '# HELP m_gauge Help with \\\\ and \\n escapes and "quotes"',
      'm_histogram_bucket{le="+Inf",} 5.0',
      'namespace:metric:rate5m 0.5',
    ].join('\n');
    const all = samples(text);
    expect(all.map((s) => s.name)).toEqual(['m_histogram_bucket', 'namespace:metric:rate5m']);
    expect(all[0]?.labels).toEqual({ le: '+Inf' });
  });

  it('returns no samples for an empty page', () => {
    expect(samples('')).toEqual([]);
    expect(samples('\n\n')).toEqual([]);
  });
});

describe('parsePrometheusText on malformed pages', () => {
  const only = (text: string): Problem => {
    const list = problems(text);
    expect(list).toHaveLength(1);
    return list[0];
  };

  it('names the line of a value that is not a number', () => {
    const p = only('# TYPE a gauge\na 1\nb twelve\n');
    expect(p).toMatchObject({ code: 'PROM_VALUE', line: 3, path: 'b' });
    expect(p.message).toContain("'twelve' is not a number");
  });

  it('rejects Go-only spellings and out-of-range numbers', () => {
    expect(only('m 0x1F').code).toBe('PROM_VALUE');
    expect(only('m 1_000').code).toBe('PROM_VALUE');
    expect(only('m 1e400').message).toContain('out of range');
  });

  it('reports a label set that is never closed', () => {
    const p = only('a 1\ncom_hivemq_foo{quantile="0.5", 1.0\n');
    expect(p).toMatchObject({ code: 'PROM_LABELS', line: 2 });
  });

  it('reports a label value without its closing quote', () => {
    expect(only('m{a="x} 1')).toMatchObject({ code: 'PROM_LABELS', line: 1 });
    expect(only('m{a="x} 1').message).toContain('no closing quote');
  });

  it('reports a metric name with dots, as an unconverted Dropwizard name would have', () => {
    const p = only('com.hivemq.networking.connections.current 5');
    expect(p).toMatchObject({ code: 'PROM_METRIC_NAME', line: 1, path: 'com.hivemq.networking.connections.current' });
  });

  it('reports a metric name that starts with a digit', () => {
    expect(only('9lives 1').code).toBe('PROM_METRIC_NAME');
  });

  it('reports a bare word as a metric without a value', () => {
    const p = only('a 1\n\nhello\n');
    expect(p).toMatchObject({ code: 'PROM_SYNTAX', line: 3 });
    expect(p.message).toContain("'hello' has no value");
  });

  it('reports an HTML error page line by line', () => {
    const list = problems('<html>\n<body>Bad Gateway</body>\n</html>');
    expect(list.map((p) => p.line)).toEqual([1, 2, 3]);
    expect(list.every((p) => p.code === 'PROM_METRIC_NAME')).toBe(true);
  });

  it.each([
    ['m{a=x} 1', 'double quotes'],
    ['m{a"x"} 1', "expected '='"],
    ['m{,} 1', 'expected a label name'],
    ['m{a="1",,b="2"} 1', 'expected a label name'],
    ['m{a="1" b="2"} 1', "expected ',' or '}'"],
    ['m{1a="x"} 1', 'expected a label name'],
    ['m{a="1",a="2"} 1', 'appears twice'],
    [String.raw`m{a="\t"} 1`, 'invalid escape'],
  ])('reports the bad label set in %s', (text, words) => {
    const p = only(text);
    expect(p.code).toBe('PROM_LABELS');
    expect(p.message).toContain(words);
  });

  it('reports a bad timestamp and text after the timestamp', () => {
    expect(only('m 1 12.5')).toMatchObject({ code: 'PROM_TIMESTAMP', line: 1 });
    expect(only('m 1 123 extra')).toMatchObject({ code: 'PROM_SYNTAX', line: 1 });
  });

  it('reports unknown, missing and repeated TYPE lines', () => {
    expect(only('# TYPE m meter')).toMatchObject({ code: 'PROM_META', line: 1 });
    expect(only('# TYPE m')).toMatchObject({ code: 'PROM_META' });
    expect(only('# TYPE')).toMatchObject({ code: 'PROM_META' });
    expect(only('# HELP')).toMatchObject({ code: 'PROM_META' });
    const repeated = only('# TYPE m gauge\nm 1\n# TYPE m counter');
    expect(repeated).toMatchObject({ code: 'PROM_META', line: 3 });
    expect(repeated.message).toContain('line 1');
    expect(only('# HELP bad.name text')).toMatchObject({ code: 'PROM_METRIC_NAME' });
  });

  it('lists every problem of a page, each with its own line', () => {
    const list = problems('good 1\nbad{ 1\nalso_good 2\nworse nope\n');
    expect(list.map((p) => [p.line, p.code])).toEqual([
      [2, 'PROM_LABELS'],
      [4, 'PROM_VALUE'],
    ]);
  });

  it('lists at most 20 problems and summarises the rest', () => {
    const text = Array.from({ length: 35 }, (_, i) => `m${i} x`).join('\n');
    const list = problems(text);
    expect(list).toHaveLength(21);
    expect(list[19]?.line).toBe(20);
    expect(list[20]).toMatchObject({ code: 'PROM_TOO_MANY_PROBLEMS' });
    expect(list[20]?.message).toContain('15 more');
  });

  it('refuses a page over the size limit before parsing it', () => {
    const p = problems('m 1\n'.repeat(100), { maxBytes: 100 });
    expect(p).toEqual([expect.objectContaining({ code: 'PROM_TOO_LARGE' })]);
    expect(p[0]?.message).toContain('400 bytes');
  });

  it('has an 8 MiB default size limit', () => {
    const big = '#' + 'x'.repeat(8 * 1024 * 1024);
    expect(problems(big)[0]?.code).toBe('PROM_TOO_LARGE');
  });
});
