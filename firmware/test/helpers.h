// Master-side helpers for the tests: framed register writes and CRC-checked reads on a SimDevice.
#ifndef PIPDU_TEST_HELPERS_H
#define PIPDU_TEST_HELPERS_H

#include <stdint.h>
#include <string.h>

#include <vector>

#include "check.h"
#include "crc8.h"
#include "sim_device.h"

namespace pipdu {

/** Sends a write frame; returns LAST_WRITE as read back afterwards. */
inline uint8_t writeRegs(SimDevice& d, uint8_t reg, std::vector<uint8_t> data) {
  uint8_t frame[64];
  const uint8_t n = buildWriteFrame(d.address(), reg, data.data(), (uint8_t)data.size(), frame);
  CHECK(d.write(d.address(), frame, n));
  return d.core().registers()[PIPDU_REG_LAST_WRITE];
}

inline uint8_t writeU8(SimDevice& d, uint8_t reg, uint8_t v) { return writeRegs(d, reg, {v}); }
inline uint8_t writeU16(SimDevice& d, uint8_t reg, uint16_t v) {
  return writeRegs(d, reg, {(uint8_t)v, (uint8_t)(v >> 8)});
}

/** A read through the bus: pointer write, then len+1 bytes; checks the CRC. */
inline std::vector<uint8_t> readRegs(SimDevice& d, uint8_t reg, uint8_t len) {
  const uint8_t req[2] = {reg, len};
  CHECK(d.write(d.address(), req, 2));
  uint8_t reply[64];
  CHECK(d.read(d.address(), reply, (uint8_t)(len + 1)));
  uint8_t crc = crc8Update(0, (uint8_t)(d.address() << 1 | 1));
  crc = crc8Update(crc, reg);
  crc = crc8Update(crc, len);
  crc = crc8(reply, len, crc);
  CHECK_EQ(reply[len], crc);
  return std::vector<uint8_t>(reply, reply + len);
}

inline uint8_t readU8(SimDevice& d, uint8_t reg) { return readRegs(d, reg, 1)[0]; }
inline uint16_t readU16(SimDevice& d, uint8_t reg) {
  const std::vector<uint8_t> b = readRegs(d, reg, 2);
  return (uint16_t)(b[0] | (b[1] << 8));
}
inline uint32_t readU32(SimDevice& d, uint8_t reg) {
  const std::vector<uint8_t> b = readRegs(d, reg, 4);
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/** The published register image (what any read returns). */
inline std::vector<uint8_t> image(SimDevice& d) {
  return std::vector<uint8_t>(d.core().registers(), d.core().registers() + PIPDU_REG_END);
}

}  // namespace pipdu

#endif
