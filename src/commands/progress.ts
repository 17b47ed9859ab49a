// A drain's progress as the CLI shows it: pure, from the polls it has made. On a terminal
// one line redrawn as a bar with an ETA; elsewhere (logs, CI) plain lines.

export interface DrainSample {
  readonly atMs: number;
  /** Connections the broker still holds, when the control plane knows. */
  readonly connections: number | undefined;
  readonly moved: number;
}

export interface DrainProgress {
  /** 0..1: the share of the clients seen so far that have left. */
  readonly fraction: number | undefined;
  /** Seconds to go at the rate seen since the first poll; undefined until clients leave. */
  readonly etaSec: number | undefined;
}

/** The fraction done and the ETA, from the first poll with a count and the latest one. */
export function drainProgress(samples: readonly DrainSample[]): DrainProgress {
  const counted = samples.filter((s) => s.connections !== undefined);
  const first = counted[0];
  const last = counted.at(-1);
  if (!first || !last || last.connections === undefined || first.connections === undefined)
    return { fraction: undefined, etaSec: undefined };
  const total = last.moved + last.connections;
  const fraction = total === 0 ? 1 : last.moved / total;
  const gone = first.connections - last.connections;
  const elapsedMs = last.atMs - first.atMs;
  if (last.connections === 0) return { fraction: 1, etaSec: 0 };
  if (gone <= 0 || elapsedMs <= 0) return { fraction, etaSec: undefined };
  return { fraction, etaSec: Math.ceil((last.connections * elapsedMs) / gone / 1000) };
}

/** `1h02m`, `4m05s`, `9s`. */
export function formatDuration(sec: number): string {
  const h = Math.floor(sec / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = sec % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

/** One terminal line: `b1 [########------------]  40%  30 left, 20 moved, ETA 1m05s`, within `columns`. */
export function progressBar(broker: string, sample: DrainSample, p: DrainProgress, columns = 80): string {
  const left = sample.connections === undefined ? '? left' : `${sample.connections} left`;
  const eta = p.etaSec === undefined ? 'ETA --' : `ETA ${formatDuration(p.etaSec)}`;
  const pct = p.fraction === undefined ? '  ?%' : `${String(Math.floor(p.fraction * 100)).padStart(3)}%`;
  const tail = ` ${pct}  ${left}, ${sample.moved} moved, ${eta}`;
  const width = Math.max(10, Math.min(40, columns - broker.length - tail.length - 4));
  const filled = p.fraction === undefined ? 0 : Math.round(p.fraction * width);
  return `${broker} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}]${tail}`;
}

/** The plain line written for each poll when the output is not a terminal. */
export function progressLine(sample: DrainSample, error: string | undefined): string {
  return `draining: ${sample.connections ?? '?'} connections left, ${sample.moved} moved${error ? `; ${error}` : ''}`;
}
