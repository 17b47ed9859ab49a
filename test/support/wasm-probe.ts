// The pure CONNECT parser, run from the test-only probe module (wasm/mqtt-filter/assembly/probe.ts).
import { instantiate, wasmModule, type WasmMemory } from './wasm-modules';

export const enum Verdict {
  NeedMore = 0,
  Accepted = 1,
  Refused = 2,
}

export interface ParseResult {
  verdict: Verdict;
  reason: string;
  connackV5: number;
  protocolLevel: number;
  consumed: number;
  detail: string;
  info?: {
    protocolVersion: number;
    clientId: string;
    hasUsername: boolean;
    username: string;
    hasPassword: boolean;
    cleanStart: boolean;
    keepAliveS: number;
    willFlag: boolean;
    willQos: number;
    willRetain: boolean;
    sessionExpiryS: number;
    packetBytes: number;
  };
}

interface ProbeExports {
  memory: WasmMemory;
  probe_alloc(size: number): number;
  probe_free(ptr: number): void;
  probe_reset(maxConnectBytes: number, maxClientIdBytes: number): void;
  probe_feed(ptr: number, len: number): number;
  probe_wanted(): number;
  probe_end(): number;
  probe_result(): number;
  probe_result_size(): number;
}

export class ConnectProbe {
  readonly logs: string[] = [];
  private readonly x: ProbeExports;

  constructor() {
    this.x = instantiate<ProbeExports>(wasmModule('connect-probe'), {
      proxy_log: (_level: number, ptr: number, len: number) => {
        this.logs.push(Buffer.from(this.x.memory.buffer, ptr, len).toString('utf8'));
        return 0;
      },
    });
  }

  reset(maxConnectBytes = 16384, maxClientIdBytes = 256): void {
    this.x.probe_reset(maxConnectBytes, maxClientIdBytes);
  }

  feed(bytes: Uint8Array): Verdict {
    const ptr = this.x.probe_alloc(Math.max(bytes.length, 1));
    new Uint8Array(this.x.memory.buffer, ptr, bytes.length).set(bytes);
    const verdict = this.x.probe_feed(ptr, bytes.length) as Verdict;
    this.x.probe_free(ptr);
    return verdict;
  }

  wanted(): number {
    return this.x.probe_wanted();
  }

  end(): Verdict {
    return this.x.probe_end();
  }

  result(): ParseResult {
    const ptr = this.x.probe_result();
    return JSON.parse(Buffer.from(this.x.memory.buffer, ptr, this.x.probe_result_size()).toString('utf8')) as ParseResult;
  }

  /** Parses `bytes` fed in pieces cut at `cuts` (offsets), then, if still undecided, ends the stream. */
  parse(
    bytes: Uint8Array,
    cuts: readonly number[] = [],
    limits: { maxConnectBytes?: number; maxClientIdBytes?: number } = {},
  ): ParseResult {
    this.reset(limits.maxConnectBytes, limits.maxClientIdBytes);
    const points = [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b);
    let from = 0;
    let verdict = Verdict.NeedMore;
    for (const to of [...points, bytes.length]) {
      verdict = this.feed(bytes.subarray(from, to));
      from = to;
      if (verdict !== Verdict.NeedMore) break;
    }
    if (verdict === Verdict.NeedMore) this.end();
    return this.result();
  }
}
