import YAML from 'yaml';
import { median, parseVariants, policyText, roundOrder, summarise, type Measurement } from '../../../test/bench/filter/variants';

describe('parseVariants', () => {
  it('takes the built-in variants in the order given, each once', () => {
    const r = parseVariants('sticky,none,sticky', []);
    expect(r.ok && r.value.map((v) => v.name)).toEqual(['sticky', 'none']);
  });

  it('makes one more variant of each --filter, its keys over weighted', () => {
    const r = parseVariants('none', [
      '{"inspectPublish":true,"maxPublishPayloadBytes":1024}',
      '{"placement":"sticky","inspectPublish":true}',
    ]);
    if (!r.ok) throw new Error(r.error);
    expect(r.value[1]).toEqual({
      name: 'weighted+{"inspectPublish":true,"maxPublishPayloadBytes":1024}',
      filter: { enabled: true, placement: 'weighted', inspectPublish: true, maxPublishPayloadBytes: 1024 },
    });
    expect(r.value[2].name).toBe('sticky+{"placement":"sticky","inspectPublish":true}');
    expect(r.value[2].filter).toMatchObject({ placement: 'sticky', enabled: true });
  });

  it('gives a static variant another module file with @label', () => {
    const modules = new Map([['before', '/tmp/before.wasm']]);
    const r = parseVariants('static-filter,static-filter@before,static-inspect@before', [], modules);
    if (!r.ok) throw new Error(r.error);
    expect(r.value.map((v) => [v.name, v.staticBootstrap, v.moduleFile])).toEqual([
      ['static-filter', 'filter', undefined],
      ['static-filter@before', 'filter', '/tmp/before.wasm'],
      ['static-inspect@before', 'inspect', '/tmp/before.wasm'],
    ]);
    expect(parseVariants('static-filter@after', [], modules)).toEqual({
      ok: false,
      error: expect.stringMatching(/no --module after=FILE/),
    });
    expect(parseVariants('weighted@before', [], modules)).toEqual({ ok: false, error: expect.stringMatching(/only static-filter/) });
  });

  it('names what is wrong', () => {
    expect(parseVariants('none,fast', [])).toEqual({
      ok: false,
      error: expect.stringMatching(/unknown variant "fast".*none, weighted, sticky/),
    });
    expect(parseVariants('', ['{nope'])).toEqual({ ok: false, error: expect.stringMatching(/--filter: not JSON/) });
    expect(parseVariants('', ['[1]'])).toEqual({ ok: false, error: expect.stringMatching(/expected a JSON object/) });
    expect(parseVariants('', [])).toEqual({ ok: false, error: expect.stringMatching(/no variant/) });
  });
});

describe('policyText', () => {
  it('writes the mqttFilter section, and nothing for the variant without the filter', () => {
    const r = parseVariants('none,sticky', []);
    if (!r.ok) throw new Error(r.error);
    expect(policyText(r.value[0])).toBeUndefined();
    expect(YAML.parse(policyText(r.value[1])!)).toEqual({ mqttFilter: { enabled: true, placement: 'sticky' } });
  });
});

describe('summarise', () => {
  const m = (variant: string, round: number, perSec: number, envoyCpuUs: number): Measurement => ({ variant, round, perSec, envoyCpuUs });

  it('gives medians and ratios paired by round against the baseline', () => {
    const rows = [
      m('none', 1, 1000, 100),
      m('weighted', 1, 900, 120),
      m('none', 2, 2000, 50),
      m('weighted', 2, 1900, 55),
      m('none', 3, 1500, 80),
      m('weighted', 3, 1200, 100),
    ];
    const [none, weighted] = summarise(rows, 'none');
    expect(none).toEqual({ variant: 'none', rounds: 3, medianPerSec: 1500, medianCpuUs: 80, rateRatio: 1, cpuRatio: 1 });
    expect(weighted.medianPerSec).toBe(1200);
    expect(weighted.medianCpuUs).toBe(100);
    // Per round: 0.9, 0.95, 0.8 → 0.9; CPU 1.2, 1.1, 1.25 → 1.2.
    expect(weighted.rateRatio).toBeCloseTo(0.9, 10);
    expect(weighted.cpuRatio).toBeCloseTo(1.2, 10);
  });

  it('has no ratio without a baseline in the same round', () => {
    const [s] = summarise([m('sticky', 1, 10, 1)], 'none');
    expect(s).toMatchObject({ rateRatio: null, cpuRatio: null, medianPerSec: 10 });
  });
});

describe('median and roundOrder', () => {
  it('medians odd and even lists', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
  });

  it('rotates the variants each round', () => {
    expect([1, 2, 3, 4].map((k) => roundOrder(['a', 'b', 'c'], k).join(''))).toEqual(['abc', 'bca', 'cab', 'abc']);
  });
});
