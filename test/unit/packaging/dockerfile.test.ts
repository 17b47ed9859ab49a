// The Dockerfile's invariants, checked without a Docker engine (none runs here, and the
// image is not built in CI): multi-stage, a numeric non-root user, no development
// dependencies and no sources in the final stage, a health check, and everything the
// production package ships (package.json "files") copied in.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../../support/repo-root';

interface Stage {
  readonly name: string;
  readonly from: string;
  readonly instructions: Array<{ readonly op: string; readonly args: string }>;
}

/** Stages of a Dockerfile: comments dropped, continuation lines joined. */
function stages(text: string): Stage[] {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const out: Stage[] = [];
  for (const line of lines) {
    const [, op, args] = /^(\S+)\s*(.*)$/.exec(line)!;
    if (op.toUpperCase() === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!m) throw new Error(`cannot read FROM ${args}`);
      out.push({ from: m[1], name: m[2] ?? String(out.length), instructions: [] });
    } else if (out.length > 0) {
      out[out.length - 1].instructions.push({ op: op.toUpperCase(), args });
    }
  }
  return out;
}

const dockerfile = fs.readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
const all = stages(dockerfile);
const final = all[all.length - 1];
const ops = (s: Stage, op: string): string[] => s.instructions.filter((i) => i.op === op).map((i) => i.args);

describe('the Dockerfile', () => {
  it('has a build stage with the dev dependencies and a separate final stage', () => {
    expect(all.length).toBeGreaterThanOrEqual(2);
    const build = all.find((s) => ops(s, 'RUN').some((r) => /npm run build:release/.test(r)));
    expect(build).toBeDefined();
    expect(build).not.toBe(final);
    expect(ops(build!, 'RUN').some((r) => /\bnpm ci\b/.test(r) && !/--omit=dev/.test(r))).toBe(true);
  });

  it('runs as a numeric user other than root, the one the manifests set', () => {
    const users = ops(final, 'USER');
    expect(users).toHaveLength(1);
    const [uid, gid] = users[0].split(':');
    expect(uid).toMatch(/^[1-9][0-9]*$/);
    expect(gid ?? uid).toMatch(/^[1-9][0-9]*$/);
    const deployment = fs.readFileSync(path.join(REPO_ROOT, 'deploy', 'base', 'deployment.yaml'), 'utf8');
    expect(deployment).toContain(`runAsUser: ${uid}`);
  });

  it('installs nothing in the final stage, and takes node_modules from a production-only install', () => {
    expect(ops(final, 'RUN').filter((r) => /\bnpm (ci|install|i)\b|\byarn\b|\bpnpm\b/.test(r))).toEqual([]);
    const copies = ops(final, 'COPY');
    const modules = copies.filter((c) => /\bnode_modules\b/.test(c));
    expect(modules).toHaveLength(1);
    const from = /--from=(\S+)/.exec(modules[0])?.[1];
    const deps = all.find((s) => s.name === from);
    expect(deps).toBeDefined();
    expect(ops(deps!, 'RUN').some((r) => /\bnpm ci\b.*--omit=dev/.test(r))).toBe(true);
    expect(ops(deps!, 'RUN').every((r) => !/\bnpm (install|i)\b/.test(r))).toBe(true);
  });

  it('copies what the production package ships, and no sources or tests', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { files: string[] };
    const copies = ops(final, 'COPY');
    const targets = copies.map((c) => c.split(/\s+/).filter((w) => !w.startsWith('--')));
    const sources = targets.flatMap((t) =>
      t.slice(0, -1).map((s) => s.replace(/^\/src\//, '').replace(/\/$/, '') + (s.endsWith('/') ? '/' : '')),
    );
    for (const shipped of pkg.files) {
      const want = shipped.replace(/\/$/, '');
      expect(sources.some((s) => s.replace(/\/$/, '') === want)).toBe(true);
    }
    expect(sources).toContain('package.json');
    expect(sources.filter((s) => /^(src|test|agent|deploy|docs)(\/|$)|^\.$/.test(s))).toEqual([]);
  });

  it('declares a health check against /healthz and starts the CLI', () => {
    expect(ops(final, 'HEALTHCHECK').join(' ')).toMatch(/\/healthz/);
    expect(ops(final, 'ENTRYPOINT')).toEqual(['["node", "dist/src/cli.js"]']);
  });

  it('reads stages and users as written (the checks can fail)', () => {
    const s = stages('FROM a AS one\nRUN x \\\n  y\n# USER 0\nFROM b\nUSER root\n');
    expect(s.map((x) => [x.name, x.from])).toEqual([
      ['one', 'a'],
      ['1', 'b'],
    ]);
    expect(ops(s[0], 'RUN')).toEqual(['x    y']);
    expect(ops(s[1], 'USER')).toEqual(['root']);
  });
});
