import type { Policy } from '../config/policy';
import type { PolicyState } from './policy-state';

/**
 * The first broker whose next scrape decides something, and what: an overload seen but not
 * yet confirmed, a cut counting its calm scrapes, a page contradicting the Envoys or agreeing
 * with them again. Scraping sooner (scrape.quickIntervalMs) only makes that decision sooner.
 *
 * A decision already made asks for nothing: a broker overloaded for an hour, or a page that
 * keeps lying, is scraped at the normal interval. So quick rounds come at most
 * confirmSamples − 1 (or suspect.samples − 1) at a time, and never hammer an overloaded
 * broker's metrics page for long.
 */
export function awaitingScrape(state: PolicyState, policy: Policy): string | undefined {
  for (const b of state.brokers) {
    const overload = b.overloadSamples ?? 0;
    if (b.calmSamples === undefined && overload > 0 && overload < policy.overload.confirmSamples) {
      return `${b.name}: overload in ${overload} of ${policy.overload.confirmSamples} scrapes`;
    }
    if (b.calmSamples !== undefined && b.calmSamples > 0 && b.calmSamples < policy.overload.confirmSamples) {
      return `${b.name}: ${b.calmSamples} of ${policy.overload.confirmSamples} calm scrapes before its cut ends`;
    }
    const contradicting = b.suspectSamples ?? 0;
    if (b.agreeSamples === undefined && contradicting > 0 && contradicting < policy.suspect.samples) {
      return `${b.name}: its page contradicted the Envoys in ${contradicting} of ${policy.suspect.samples} scrapes`;
    }
    if (b.agreeSamples !== undefined && b.agreeSamples > 0 && b.agreeSamples < policy.suspect.samples) {
      return `${b.name}: its page agreed with the Envoys again in ${b.agreeSamples} of ${policy.suspect.samples} scrapes`;
    }
  }
  return undefined;
}
