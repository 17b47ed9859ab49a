import { parsePolicy } from '../../../src/config/policy';
import { parseBrokersFile } from '../../../src/discovery/brokers-file';
import { parseYamlDoc } from '../../../src/util/yaml-doc';

const WHERE = { path: 'f.yaml', code: 'TEST_YAML' };

describe('parseYamlDoc: a key given twice in one mapping', () => {
  it('is a problem naming the key, the line of the repeat and the line of the first', () => {
    const y = parseYamlDoc('a: 1\nb:\n  c: 1\n  d: 2\n  c: 3\na: 4\n', WHERE);
    expect(y.syntaxProblems).toEqual([
      expect.objectContaining({
        code: 'TEST_YAML',
        path: 'f.yaml',
        line: 5,
        message: expect.stringContaining('key "c" is given twice (first on line 3)'),
      }),
      expect.objectContaining({
        code: 'TEST_YAML',
        path: 'f.yaml',
        line: 6,
        message: expect.stringContaining('key "a" is given twice (first on line 1)'),
      }),
    ]);
  });

  it('is found in flow mappings, in mappings inside lists, and between a quoted and a plain spelling', () => {
    expect(parseYamlDoc('{ x: 1, x: 2 }\n', WHERE).syntaxProblems).toHaveLength(1);
    expect(parseYamlDoc('- { p: 1 }\n- p: 1\n  q: 2\n  p: 3\n', WHERE).syntaxProblems).toEqual([expect.objectContaining({ line: 4 })]);
    expect(parseYamlDoc('"k": 1\nk: 2\n', WHERE).syntaxProblems).toEqual([expect.objectContaining({ line: 2 })]);
  });

  it('is not confused with the same key in sibling mappings', () => {
    expect(parseYamlDoc('a: { x: 1 }\nb: { x: 1 }\nl:\n  - x: 1\n  - x: 2\n', WHERE).syntaxProblems).toEqual([]);
  });

  it('refuses a policy and a brokers file that repeat a key', () => {
    const policy = parsePolicy('overrides:\n  hivemq-0: { weight: 10 }\n  hivemq-0: { exclude: true }\n', 'policy.yaml');
    expect(policy.ok).toBe(false);
    if (!policy.ok)
      expect(policy.problems[0]).toEqual(expect.objectContaining({ line: 3, message: expect.stringContaining('"hivemq-0"') }));
    const brokers = parseBrokersFile('brokers:\n  - name: a\n    host: 127.0.0.1\n    port: 1883\n    port: 1884\n', 'brokers.yaml');
    expect(brokers.ok).toBe(false);
    if (!brokers.ok) expect(brokers.problems[0]).toEqual(expect.objectContaining({ line: 5, message: expect.stringContaining('"port"') }));
  });

  // The duplicate check was yaml's uniqueKeys, which compares each key with every earlier
  // one: 50,000 overrides took 79 s on the event loop; now about 1.5 s a parse. Not a timing
  // assertion: the bound is 20 times what it takes, and 30 times less than it took.
  it('reads 50,000 overrides, and finds the one repeated at the end', () => {
    const names = Array.from({ length: 50_000 }, (_, i) => `broker-${i}`);
    const text = `overrides:\n${names.map((n) => `  ${n}: { weight: 10 }\n`).join('')}`;
    const ok = parsePolicy(text, 'policy.yaml');
    expect(ok.ok).toBe(true);
    if (ok.ok) expect(Object.keys(ok.value.overrides)).toHaveLength(50_000);
    const repeated = parsePolicy(`${text}  broker-7: { weight: 20 }\n`, 'policy.yaml');
    expect(repeated.ok).toBe(false);
    if (!repeated.ok)
      expect(repeated.problems[0]).toEqual(expect.objectContaining({ line: 50_002, message: expect.stringContaining('first on line 9') }));
  });
});
