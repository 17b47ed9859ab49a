import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Pair } from 'yaml';
import type { Problem } from './result';

/** A parsed YAML document that can say on which line any of its nodes starts. */
export interface YamlDoc {
  readonly doc: Document.Parsed;
  /** True when the document holds no value at all (empty, or comments only). */
  readonly empty: boolean;
  /** Syntax errors, one problem each, with their line. */
  readonly syntaxProblems: Problem[];
  /** 1-based line where a node (or a pair's key) starts. */
  lineOf(node: unknown): number | undefined;
}

export function parseYamlDoc(text: string, where: { path: string; code: string }): YamlDoc {
  const lines = new LineCounter();
  // A repeated key is an error, not "last wins". yaml's own uniqueKeys check compares each
  // key with every earlier one of its mapping (50,000 policy overrides took 79 s), so it is
  // off, and repeatedKeys finds the same in one pass.
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
  const lineOf = (node: unknown): number | undefined => {
    const target = isPairLike(node) ? node.key : node;
    if (!isNode(target) || target.range === undefined || target.range === null) return undefined;
    return lines.linePos(target.range[0]).line;
  };
  const syntaxProblems = [
    ...doc.errors.map((e): Problem => ({
      code: where.code,
      path: where.path,
      // The pretty message repeats the position and adds a source excerpt; keep the sentence.
      message: `YAML syntax error: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`,
      line: e.linePos?.[0].line ?? lines.linePos(e.pos[0]).line,
    })),
    ...repeatedKeys(doc, lineOf).map(({ key, line, firstLine }): Problem => ({
      code: where.code,
      path: where.path,
      message: `YAML error: key ${JSON.stringify(key)} is given twice (first on line ${firstLine ?? '?'}); one mapping cannot hold a key twice`,
      line,
    })),
  ].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  const contents = doc.contents;
  const empty = contents === null || (isScalar(contents) && contents.value === null);
  return { doc, empty, syntaxProblems, lineOf };
}

/**
 * Every key that a mapping holds twice, compared by its string form (configuration reads
 * keys as strings, so `1` and `"1"` are one key). One pass over the document with a set
 * per mapping: linear in its size. Keys that are not scalars are left to the schema, which
 * refuses them.
 */
function repeatedKeys(
  doc: Document.Parsed,
  lineOf: (node: unknown) => number | undefined,
): Array<{ key: string; line?: number; firstLine?: number }> {
  const found: Array<{ key: string; line?: number; firstLine?: number }> = [];
  visit(doc, {
    Map(_, map) {
      const first = new Map<string, Pair>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const key = String(pair.key.value);
        const earlier = first.get(key);
        if (earlier === undefined) first.set(key, pair);
        else found.push({ key, line: lineOf(pair), firstLine: lineOf(earlier) });
      }
    },
  });
  return found;
}

/** The string form of a map key; YAML allows any node as a key, configuration does not. */
export function keyName(pair: Pair): string {
  return isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
}

/** Short human description of what a node holds, for "expected X, got Y" messages. */
export function describeNode(node: unknown): string {
  if (node === null || node === undefined) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return 'an empty value';
    if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
    return `${typeof v} ${String(v)}`;
  }
  return 'an unsupported YAML node';
}

function isPairLike(node: unknown): node is Pair {
  return typeof node === 'object' && node !== null && 'key' in node && 'value' in node && !isNode(node);
}
