// Garbage collection at safe points. The filter runs AssemblyScript's minimal runtime
// (asconfig.json): the same mark & sweep collector as `incremental`, but it never runs on its
// own, so the code keeps no shadow stack of live references. That stack cost a store per
// reference per call, which made the PUBLISH framer about 3× slower (docs/benchmarks.md). The
// collector may then only run where no managed reference lives on the Wasm stack: at the end of
// an export, which every export here reaches with its work done and nothing held.
//
// What decides when: a debt in bytes, an upper estimate of the garbage made since the last
// collection, owed by the code that makes garbage (a connection, its CONNECT's copies and
// strings, a log line). A collection runs at the next safe point once the debt passes the
// budget, so the garbage held between collections stays bounded by the budget plus what one
// call makes.

/** Garbage allowed to pile up between collections, in bytes (estimated, see owe). */
export const COLLECT_BUDGET: usize = 256 * 1024;

let debt: usize = 0;
/** Host calls under way that may call an export back (see holdCollection). */
let held: u32 = 0;

/**
 * Around a host call that may call one of our exports before it returns: proxy_close_stream
 * makes Envoy close the connection, and it may tell us at once, through
 * proxy_on_downstream_connection_close. That export's end is no safe point, since the caller's
 * references are still on the stack: it must not collect. Pair with releaseCollection.
 */
export function holdCollection(): void {
  held++;
}

export function releaseCollection(): void {
  held--;
}

/** Records `bytes` of garbage the caller made, or will leave behind when it lets go. */
export function owe(bytes: usize): void {
  debt += bytes;
}

/** At the end of an export only: collects once the debt has passed the budget. */
export function collectIfDue(): void {
  if (debt < COLLECT_BUDGET || held > 0) return;
  collectNow();
}

/** At the end of an export only: collects now (or at the next safe point, inside a held host call). */
export function collectNow(): void {
  if (held > 0) return;
  debt = 0;
  __collect();
}
