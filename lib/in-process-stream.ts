// Two ends of an in-memory byte stream: what one end writes, the other reads. Parts in one process talk
// MQTT to the embedded broker over such a pair instead of a loopback socket (no system calls, no TCP stack).
import { Duplex } from "node:stream";

export function duplexPair(): [Duplex, Duplex] {
  const make = (peer: () => Duplex): Duplex =>
    new Duplex({
      read() {
        // data is pushed by the peer's writes
      },
      write(chunk: Buffer, _encoding, callback) {
        peer().push(chunk);
        callback();
      },
      writev(chunks: { chunk: Buffer }[], callback) {
        peer().push(Buffer.concat(chunks.map((c) => c.chunk)));
        callback();
      },
      final(callback) {
        peer().push(null);
        callback();
      },
      destroy(error, callback) {
        const other = peer();
        if (!other.destroyed) other.destroy();
        callback(error);
      },
    });
  const a: Duplex = make(() => b);
  const b: Duplex = make(() => a);
  return [a, b];
}
