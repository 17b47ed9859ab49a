// Plain-text tables for the sub-commands: columns padded to their widest cell, the last
// one left ragged so a long reason does not pad every row. Pure.

/** Rows of cells under a header, as lines; each column as wide as its widest cell. */
export function formatTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    header
      .map((_, i) => (i === header.length - 1 ? (cells[i] ?? '') : (cells[i] ?? '').padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** A version hash shortened for a table cell, as git shortens commits. */
export function shortVersion(v: string | undefined): string {
  return v === undefined || v === '' ? '-' : v.slice(0, 8);
}

/** 0.4234 → "42%"; undefined → "-". */
export function percent(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? '-' : `${Math.round(v * 100)}%`;
}
