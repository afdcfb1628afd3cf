#include "check.h"
#include "crc8.h"
#include "helpers.h"

using namespace pipdu;

TEST(crc8_check_value_of_123456789_is_F4) {
  const uint8_t s[] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
  CHECK_EQ(crc8(s, 9), 0xF4);
}

TEST(crc8_of_nothing_is_zero_and_chains_byte_by_byte) {
  CHECK_EQ(crc8(nullptr, 0), 0);
  const uint8_t s[] = {0x84, 0x00, 0x02};
  CHECK_EQ(crc8(s + 1, 2, crc8Update(0, s[0])), crc8(s, 3));
}

TEST(read_reply_crc_covers_address_register_and_length) {
  SimDevice d;
  const uint8_t req[2] = {PIPDU_REG_MAGIC, 2};
  d.write(d.address(), req, 2);
  uint8_t r[3];
  d.read(d.address(), r, 3);
  CHECK_EQ(r[0], 0x50);
  CHECK_EQ(r[1], 0x44);
  const uint8_t covered[] = {(uint8_t)(0x42 << 1 | 1), PIPDU_REG_MAGIC, 2, 0x50, 0x44};
  CHECK_EQ(r[2], crc8(covered, 5));
  const uint8_t dataOnly[] = {0x50, 0x44};
  CHECK(r[2] != crc8(dataOnly, 2));
}

static bool zeroReplyValidates(uint8_t reg, uint8_t len) {
  uint8_t crc = crc8Update(crc8Update(crc8Update(0, 0x42 << 1 | 1), reg), len);
  for (uint8_t i = 0; i < len; i++) crc = crc8Update(crc, 0);
  return crc == 0;  // the zero reply's CRC byte is 0x00 too
}

// CRC-8 is linear: a reply of zeros validates exactly when crc8(addr|1, reg, len) == 0. At 0x42 that
// holds for 23 (reg, len) pairs inside the map (e.g. 0x27/2, 0x4B/1) and for none the driver uses.
TEST(an_all_zero_reply_fails_the_crc_for_the_reads_the_driver_makes) {
  const uint8_t reads[][2] = {{PIPDU_REG_MAGIC, 8}, {PIPDU_REG_LAST_WRITE, 2}, {PIPDU_REG_RELAY_STATE, 2},
                              {PIPDU_REG_IRMS, 16}, {PIPDU_REG_IRMS + 16, 16}, {PIPDU_REG_STATUS, 1}};
  for (const auto& r : reads) CHECK(!zeroReplyValidates(r[0], r[1]));
  int unsafe = 0;
  for (int reg = 0; reg < PIPDU_REG_END; reg++)
    for (int len = 1; len <= PIPDU_MAX_READ && reg + len <= PIPDU_REG_END; len++)
      unsafe += zeroReplyValidates((uint8_t)reg, (uint8_t)len);
  CHECK_EQ(unsafe, 23);
}
