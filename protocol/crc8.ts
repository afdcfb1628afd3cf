// CRC-8/SMBus (polynomial 0x07, init 0x00, no reflection): the SMBus PEC. Check value for "123456789" is 0xF4.

const TABLE = (() => {
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let b = 0; b < 8; b++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff;
    t[i] = c;
  }
  return t;
})();

export function crc8(bytes: ArrayLike<number>, init = 0): number {
  let crc = init;
  for (let i = 0; i < bytes.length; i++) crc = TABLE[(crc ^ (bytes[i] ?? 0)) & 0xff] ?? 0;
  return crc;
}
