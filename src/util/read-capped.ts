// Reading an HTTP answer whole, but never more than a bound: whatever answers (a broker's
// metrics page, an agent, the admin API) could send without end.

/**
 * The body's bytes, or 'too large' as soon as it is (or declares itself) over `max`; the
 * stream is cancelled then, so an endless answer costs at most `max`. A failing stream
 * rejects (the caller knows whether that was its deadline).
 */
export async function readCapped(res: Response, max: number): Promise<Uint8Array | 'too large'> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > max) {
    await res.body?.cancel().catch(() => undefined);
    return 'too large';
  }
  if (!res.body) return new Uint8Array(0);
  // A fetch body is bytes; Node's types leave its chunks untyped.
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      return 'too large';
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}
