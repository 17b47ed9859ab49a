// When re-read TLS files are refused: a rotation written file by file passes through
// mismatched states, so a failure is reported once it is seen on two reads in a row, and
// the same failure only once.
import { formatProblems, type Problem } from '../util/result';

export class RefusalReport {
  private pending = '';
  private reported = '';

  /** The problems of a failed read; true when they are to be reported (counted and logged) now. */
  failed(problems: readonly Problem[]): boolean {
    const key = formatProblems(problems);
    if (key !== this.pending) {
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
