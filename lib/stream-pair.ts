// Two connected in-memory streams, for piPDU's parts talking to the embedded broker in one process: what
// one side writes, the other reads, like node:stream's duplexPair. Unlike it, writes buffered together
// (mqtt-packet corks the stream and writes a packet as several pieces: header, topic, properties, payload)
// reach the other side as one chunk, and a write completes once the other side has it in its buffer
// rather than when it has been read: a packet costs one chunk to parse instead of several, each of which
// needed its own read before the next could be written.
import { Duplex } from "node:stream";

class PairSide extends Duplex {
  peer: PairSide | null = null;
  /** A write waiting for the peer to want more (its buffer was full). */
  private blocked: ((error?: Error | null) => void) | null = null;

  override _read(): void {
    const peer = this.peer;
    const resume = peer?.blocked;
    if (peer && resume) {
      peer.blocked = null;
      resume();
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.deliver(chunk, callback);
  }

  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    callback: (error?: Error | null) => void,
  ): void {
    const first = chunks[0];
    const whole = chunks.length === 1 && first ? first.chunk : Buffer.concat(chunks.map((c) => c.chunk));
    this.deliver(whole, callback);
  }

  /** A write still waiting on either side fails rather than stay pending for ever. */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const closed = new Error("the other side of the stream is closed");
    for (const side of [this, this.peer]) {
      const pending = side?.blocked;
      if (side && pending) {
        side.blocked = null;
        pending(closed);
      }
    }
    callback(error);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.peer?.push(null);
    callback();
  }

  private deliver(chunk: Buffer, callback: (error?: Error | null) => void): void {
    const peer = this.peer;
    if (peer === null || peer.destroyed) {
      callback(new Error("the other side of the stream is closed"));
      return;
    }
    if (chunk.length === 0 || peer.push(chunk)) callback();
    else this.blocked = callback;
  }
}

/** Two connected streams: [a, b], what a writes b reads and the other way round. */
export function streamPair(): [Duplex, Duplex] {
  const a = new PairSide();
  const b = new PairSide();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
