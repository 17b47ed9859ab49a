// Scraping: fetches each broker's Prometheus page on a timer and turns it into BrokerLoads
// (signals, rates, staleness, stable error codes); the parsing and mapping are pure.
export { parsePrometheusText, DEFAULT_MAX_PAGE_BYTES, METRIC_TYPES, type Sample, type ParseOptions } from './prom-text';
export {
  hivemqSignals,
  readHivemqPage,
  indexSamples,
  valueOf,
  rateBetween,
  cpuFromProcessSeconds,
  HIVEMQ_METRICS,
  AGENT_METRICS,
  type PageReading,
  type Scrape,
  type SignalOptions,
} from './hivemq-signals';
export { fetchPage, SCRAPE_ERROR_CODES, type ScrapeErrorCode, type CodedScrapeError, type FetchLike, type PageResult } from './fetch-page';
export { Scraper, type ScraperOptions } from './scraper';
