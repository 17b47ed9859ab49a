// When re-read TLS material is refused: a rotation written file by file passes through
// mismatched states, so a failure is reported once it is seen on two reads in a row, and
// the same failure only once. A source that changes everything at once (one Secret
// object) has nothing half-written to wait out: it reports on the first read.
import { formatProblems, type Problem } from '../util/result';

export class RefusalReport {
  private pending = '';
  private reported = '';

  constructor(private readonly readsInARow: 1 | 2 = 2) {}

  /** The problems of a failed read; true when they are to be reported (counted and logged) now. */
  failed(problems: readonly Problem[]): boolean {
    const key = formatProblems(problems);
    if (this.readsInARow > 1 && key !== this.pending) {
      this.pending = key;
      return false;
    }
    if (key === this.reported) return false;
    this.reported = key;
    return true;
  }

  /** A good read: the next failure starts afresh. */
  succeeded(): void {
    this.pending = '';
    this.reported = '';
  }
}
