// The register file seen from the bus: identity, protection, frame checks, counters, EEPROM.
#include "check.h"
#include "helpers.h"

using namespace pipdu;

namespace {

bool writable(uint8_t a) { return isWritable(a, 1); }

/** Everything but LAST_WRITE must be as before. */
void checkUnchangedExceptLastWrite(const std::vector<uint8_t>& before, const std::vector<uint8_t>& after) {
  for (size_t i = 0; i < before.size(); i++) {
    if (i == PIPDU_REG_LAST_WRITE) continue;
    if (before[i] != after[i]) {
      fprintf(stderr, "  register byte 0x%02zx changed: 0x%02x -> 0x%02x\n", i, before[i], after[i]);
      CHECK(false);
    }
  }
}

}  // namespace

TEST(identity_registers_read_magic_protocol_version_and_outlets) {
  SimDevice d(12);
  const std::vector<uint8_t> id = readRegs(d, PIPDU_REG_MAGIC, 8);
  CHECK_EQ(id[0] | id[1] << 8, PIPDU_DEVICE_MAGIC);
  CHECK_EQ(id[2], PIPDU_PROTOCOL_VERSION);
  CHECK_EQ(id[3], PIPDU_FW_MAJOR);
  CHECK_EQ(id[4], PIPDU_FW_MINOR);
  CHECK_EQ(id[5], PIPDU_FW_PATCH);
  CHECK_EQ(id[6], 12);
  CHECK_EQ(id[7], PIPDU_RESET_POWER_ON);
}

TEST(every_read_only_register_byte_refuses_writes_and_changes_nothing) {
  SimDevice d;
  int refused = 0;
  for (int a = 0; a < PIPDU_REG_END; a++) {
    if (writable((uint8_t)a)) continue;
    for (uint8_t len = 1; len <= 2; len++) {
      const std::vector<uint8_t> before = image(d);
      CHECK_EQ(writeRegs(d, (uint8_t)a, std::vector<uint8_t>(len, 0x5A)), PIPDU_WRITE_READ_ONLY);
      checkUnchangedExceptLastWrite(before, image(d));
      refused++;
    }
  }
  CHECK_EQ(refused, 2 * (PIPDU_REG_END - 6 - 4 - 0x60));
}

TEST(a_frame_spanning_writable_and_read_only_bytes_is_refused_whole) {
  SimDevice d;
  const std::vector<uint8_t> before = image(d);
  CHECK_EQ(writeRegs(d, PIPDU_REG_RELAY_STATE, {0xFF, 0xFF, 0x01, 0x00}), PIPDU_WRITE_READ_ONLY);
  CHECK_EQ(writeRegs(d, PIPDU_REG_RELAY_OFF, {0, 0, 0, 0}), PIPDU_WRITE_READ_ONLY);  // into CRC_ERRORS
  CHECK_EQ(writeRegs(d, PIPDU_REG_COMMAND, {0, 0, 0}), PIPDU_WRITE_READ_ONLY);      // into IRMS
  checkUnchangedExceptLastWrite(before, image(d));
  CHECK_EQ(d.board.relayPins, 0);
}

TEST(bad_crc_is_refused_counted_and_changes_nothing_else) {
  SimDevice d;
  uint8_t frame[8];
  const uint8_t data[2] = {0x01, 0x00};
  const uint8_t n = buildWriteFrame(0x42, PIPDU_REG_RELAY_SET, data, 2, frame);
  frame[n - 1] ^= 0x10;
  const std::vector<uint8_t> before = image(d);
  CHECK(d.write(0x42, frame, n));
  CHECK_EQ(readU8(d, PIPDU_REG_LAST_WRITE), PIPDU_WRITE_BAD_CRC);
  CHECK_EQ(readU16(d, PIPDU_REG_CRC_ERRORS), 1);
  CHECK_EQ(readU8(d, PIPDU_REG_WRITE_SEQ), before[PIPDU_REG_WRITE_SEQ]);
  CHECK_EQ(readU16(d, PIPDU_REG_RELAY_STATE), 0);
  CHECK_EQ(d.board.relayPins, 0);
  // a frame CRC'd for another address is a bad CRC too: the address is covered
  buildWriteFrame(0x43, PIPDU_REG_RELAY_SET, data, 2, frame);
  CHECK(d.write(0x42, frame, n));
  CHECK_EQ(readU16(d, PIPDU_REG_CRC_ERRORS), 2);
  CHECK_EQ(d.board.relayPins, 0);
}

TEST(crc_errors_saturate_and_clear_counters_resets_them) {
  SimDevice d;
  uint8_t frame[5] = {PIPDU_REG_MAINS_HZ, 1, 60, 0};
  for (int i = 0; i < 70000; i++) d.write(0x42, frame, 4);
  CHECK_EQ(readU16(d, PIPDU_REG_CRC_ERRORS), 0xFFFF);
  CHECK_EQ(writeU8(d, PIPDU_REG_COMMAND, PIPDU_CMD_CLEAR_COUNTERS), PIPDU_WRITE_OK);
  CHECK_EQ(readU16(d, PIPDU_REG_CRC_ERRORS), 0);
  CHECK_EQ(readU8(d, PIPDU_REG_MAINS_HZ), 50);
}

TEST(frames_shorter_or_longer_than_their_length_byte_are_bad_length) {
  SimDevice d;
  uint8_t frame[8];
  const uint8_t data[2] = {0x03, 0x00};
  const uint8_t n = buildWriteFrame(0x42, PIPDU_REG_RELAY_SET, data, 2, frame);
  const std::vector<uint8_t> before = image(d);
  CHECK(d.write(0x42, frame, (uint8_t)(n - 1)));
  CHECK_EQ(d.core().registers()[PIPDU_REG_LAST_WRITE], PIPDU_WRITE_BAD_LENGTH);
  frame[n] = 0;
  CHECK(d.write(0x42, frame, (uint8_t)(n + 1)));
  CHECK_EQ(d.core().registers()[PIPDU_REG_LAST_WRITE], PIPDU_WRITE_BAD_LENGTH);
  const uint8_t empty[3] = {PIPDU_REG_RELAY_SET, 0, 0};
  CHECK(d.write(0x42, empty, 3));
  CHECK_EQ(d.core().registers()[PIPDU_REG_LAST_WRITE], PIPDU_WRITE_BAD_LENGTH);
  checkUnchangedExceptLastWrite(before, image(d));
}

TEST(spans_past_end_or_longer_than_max_write_are_out_of_range) {
  SimDevice d;
  const std::vector<uint8_t> before = image(d);
  CHECK_EQ(writeRegs(d, PIPDU_REG_END - 1, {0, 0}), PIPDU_WRITE_OUT_OF_RANGE);
  CHECK_EQ(writeRegs(d, 0xF0, {1}), PIPDU_WRITE_OUT_OF_RANGE);
  uint8_t frame[32] = {PIPDU_REG_COLD_POLICY, 30};
  CHECK(d.write(0x42, frame, 32));
  CHECK_EQ(d.core().registers()[PIPDU_REG_LAST_WRITE], PIPDU_WRITE_OUT_OF_RANGE);
  checkUnchangedExceptLastWrite(before, image(d));
  CHECK_EQ(writeRegs(d, PIPDU_REG_COLD_POLICY, std::vector<uint8_t>(29, 1)), PIPDU_WRITE_OK);  // MAX_WRITE fits
}

TEST(relay_bits_for_unfitted_outlets_are_bad_values) {
  SimDevice d(8);
  const std::vector<uint8_t> before = image(d);
  CHECK_EQ(writeU16(d, PIPDU_REG_RELAY_SET, 0x0100), PIPDU_WRITE_BAD_VALUE);
  CHECK_EQ(writeU16(d, PIPDU_REG_RELAY_ON, 0x8001), PIPDU_WRITE_BAD_VALUE);
  CHECK_EQ(writeU16(d, PIPDU_REG_RELAY_OFF, 0x0200), PIPDU_WRITE_BAD_VALUE);
  checkUnchangedExceptLastWrite(before, image(d));
  CHECK_EQ(d.board.relayPins, 0);
  CHECK_EQ(writeU16(d, PIPDU_REG_RELAY_SET, 0x00FF), PIPDU_WRITE_OK);
  CHECK_EQ(d.board.relayPins, 0x00FF);
}

TEST(config_values_out_of_their_domain_are_bad_values_and_change_nothing) {
  SimDevice d;
  const std::vector<uint8_t> before = image(d);
  CHECK_EQ(writeU8(d, PIPDU_REG_MAINS_HZ, 55), PIPDU_WRITE_BAD_VALUE);
  CHECK_EQ(writeU8(d, PIPDU_REG_MAINS_HZ, 0), PIPDU_WRITE_BAD_VALUE);
  CHECK_EQ(writeU8(d, PIPDU_REG_CYCLES, 0), PIPDU_WRITE_BAD_VALUE);
  CHECK_EQ(writeU8(d, PIPDU_REG_CYCLES, 26), PIPDU_WRITE_BAD_VALUE);
  CHECK_EQ(writeU8(d, PIPDU_REG_COMMAND, 3), PIPDU_WRITE_BAD_VALUE);
  CHECK_EQ(writeU8(d, PIPDU_REG_COMMAND + 1, 1), PIPDU_WRITE_BAD_VALUE);
  CHECK_EQ(writeU8(d, PIPDU_REG_COLD_POLICY + 15, 3), PIPDU_WRITE_BAD_VALUE);
  CHECK_EQ(writeRegs(d, PIPDU_REG_MAINS_HZ, {60, 0}), PIPDU_WRITE_BAD_VALUE);  // one bad field spoils the frame
  checkUnchangedExceptLastWrite(before, image(d));
  CHECK_EQ(writeRegs(d, PIPDU_REG_MAINS_HZ, {60, 25}), PIPDU_WRITE_OK);
  CHECK_EQ(readU8(d, PIPDU_REG_MAINS_HZ), 60);
  CHECK_EQ(readU8(d, PIPDU_REG_CYCLES), 25);
}

TEST(accepted_writes_set_ok_and_bump_write_seq_which_wraps) {
  SimDevice d;
  CHECK_EQ(writeU8(d, PIPDU_REG_MAINS_HZ, 55), PIPDU_WRITE_BAD_VALUE);
  CHECK_EQ(readU8(d, PIPDU_REG_WRITE_SEQ), 0);
  for (int i = 1; i <= 300; i++) {
    CHECK_EQ(writeU8(d, PIPDU_REG_ON_DELAY + 3, (uint8_t)i), PIPDU_WRITE_OK);
    CHECK_EQ(readU8(d, PIPDU_REG_WRITE_SEQ), i & 0xFF);
  }
  CHECK_EQ(readU8(d, PIPDU_REG_ON_DELAY + 3), 300 & 0xFF);
}

TEST(relay_on_off_and_set_switch_the_pins_and_read_back) {
  SimDevice d;
  CHECK_EQ(writeU16(d, PIPDU_REG_RELAY_ON, 0x0005), PIPDU_WRITE_OK);
  CHECK_EQ(d.board.relayPins, 0x0005);
  CHECK_EQ(writeU16(d, PIPDU_REG_RELAY_ON, 0x8000), PIPDU_WRITE_OK);
  CHECK_EQ(writeU16(d, PIPDU_REG_RELAY_OFF, 0x0001), PIPDU_WRITE_OK);
  CHECK_EQ(d.board.relayPins, 0x8004);
  CHECK_EQ(readU16(d, PIPDU_REG_RELAY_STATE), 0x8004);
  CHECK_EQ(readU16(d, PIPDU_REG_RELAY_SET), 0x8004);
  CHECK_EQ(readU16(d, PIPDU_REG_RELAY_ON), 0);  // write-only: reads 0
  CHECK_EQ(readU16(d, PIPDU_REG_RELAY_OFF), 0);
  CHECK_EQ(writeU16(d, PIPDU_REG_RELAY_SET, 0x1234), PIPDU_WRITE_OK);
  CHECK_EQ(readU16(d, PIPDU_REG_RELAY_STATE), 0x1234);
}

TEST(reads_past_end_return_zeros_with_a_valid_crc) {
  SimDevice d;
  const std::vector<uint8_t> tail = readRegs(d, PIPDU_REG_END - 2, 6);
  CHECK_EQ(tail[0] | tail[1] << 8, 0);  // NOISE_FLOOR[15] default
  for (int i = 2; i < 6; i++) CHECK_EQ(tail[i], 0);
  const std::vector<uint8_t> beyond = readRegs(d, 0xF0, 4);
  for (int i = 0; i < 4; i++) CHECK_EQ(beyond[i], 0);
}

TEST(malformed_read_requests_get_no_valid_reply) {
  SimDevice d;
  const uint8_t tooLong[2] = {0, PIPDU_MAX_READ + 1};
  d.write(0x42, tooLong, 2);
  uint8_t r[4];
  d.read(0x42, r, 4);
  CHECK_EQ(r[0], 0x00);  // what Wire sends when the handler wrote nothing
  CHECK_EQ(r[1], 0xFF);
  const uint8_t zero[2] = {0, 0};
  d.write(0x42, zero, 2);
  d.read(0x42, r, 2);
  CHECK_EQ(r[0], 0x00);
}

TEST(bus_level_nacks_for_another_address_and_frames_over_32_bytes) {
  SimDevice d;
  uint8_t big[33] = {0};
  CHECK(!d.write(0x42, big, 33));
  CHECK(!d.write(0x43, big, 2));
  uint8_t r[2];
  CHECK(!d.read(0x41, r, 2));
}

TEST(uptime_counts_seconds_and_host_silent_counts_since_the_last_valid_frame) {
  SimDevice d;
  d.advance(5500);
  CHECK_EQ(d.core().registers()[PIPDU_REG_HOST_SILENT], 5);
  CHECK_EQ(readU32(d, PIPDU_REG_UPTIME), 5);
  CHECK_EQ(readU16(d, PIPDU_REG_HOST_SILENT), 0);  // that read was contact
  d.advance(2000);
  uint8_t frame[8];
  const uint8_t data[1] = {1};
  uint8_t n = buildWriteFrame(0x42, PIPDU_REG_MAINS_HZ, data, 1, frame);
  frame[n - 1] ^= 1;
  d.write(0x42, frame, n);  // a corrupted frame is not contact
  CHECK_EQ(d.core().registers()[PIPDU_REG_HOST_SILENT], 2);
  n = buildWriteFrame(0x42, PIPDU_REG_MAINS_HZ, data, 1, frame);
  d.write(0x42, frame, n);  // a refused (BAD_VALUE) but intact frame is
  CHECK_EQ(d.core().registers()[PIPDU_REG_HOST_SILENT], 0);
}

TEST(host_silent_saturates_at_65535) {
  SimDevice d;
  d.advance(70000u * 1000u);
  CHECK_EQ(d.core().registers()[PIPDU_REG_HOST_SILENT] | d.core().registers()[PIPDU_REG_HOST_SILENT + 1] << 8,
           0xFFFF);
  CHECK_EQ(readU32(d, PIPDU_REG_UPTIME), 70000);
}

TEST(saved_config_survives_power_off_and_a_corrupt_eeprom_falls_back_to_defaults) {
  SimDevice d;
  CHECK(d.core().registers()[PIPDU_REG_STATUS] & PIPDU_STATUS_EEPROM_DEFAULTED);
  CHECK_EQ(writeRegs(d, PIPDU_REG_MAINS_HZ, {60, 5}), PIPDU_WRITE_OK);
  CHECK_EQ(writeU16(d, PIPDU_REG_CAL_GAIN + 2 * 7, 26400), PIPDU_WRITE_OK);
  CHECK_EQ(writeU16(d, PIPDU_REG_NOISE_FLOOR + 2 * 7, 35), PIPDU_WRITE_OK);
  CHECK_EQ(writeU8(d, PIPDU_REG_COLD_POLICY + 2, PIPDU_COLD_ON), PIPDU_WRITE_OK);
  d.reset(PIPDU_RESET_POWER_ON);  // not saved: lost
  CHECK_EQ(readU8(d, PIPDU_REG_MAINS_HZ), 50);
  CHECK_EQ(writeRegs(d, PIPDU_REG_MAINS_HZ, {60, 5}), PIPDU_WRITE_OK);
  CHECK_EQ(writeU16(d, PIPDU_REG_CAL_GAIN + 2 * 7, 26400), PIPDU_WRITE_OK);
  CHECK_EQ(writeU8(d, PIPDU_REG_COMMAND, PIPDU_CMD_SAVE_CONFIG), PIPDU_WRITE_OK);
  CHECK(!(d.core().registers()[PIPDU_REG_STATUS] & PIPDU_STATUS_EEPROM_DEFAULTED));
  d.advance(100);  // the EEPROM is written in the background, one byte per loop()
  d.reset(PIPDU_RESET_POWER_ON);
  CHECK_EQ(readU8(d, PIPDU_REG_MAINS_HZ), 60);
  CHECK_EQ(readU8(d, PIPDU_REG_CYCLES), 5);
  CHECK_EQ(readU16(d, PIPDU_REG_CAL_GAIN + 2 * 7), 26400);
  CHECK(!(readU8(d, PIPDU_REG_STATUS) & PIPDU_STATUS_EEPROM_DEFAULTED));
  d.board.eeprom[kEepromConfigAddress + 20] ^= 0x40;  // one flipped bit
  d.reset(PIPDU_RESET_POWER_ON);
  CHECK(readU8(d, PIPDU_REG_STATUS) & PIPDU_STATUS_EEPROM_DEFAULTED);
  CHECK_EQ(readU8(d, PIPDU_REG_MAINS_HZ), 50);
  CHECK_EQ(readU16(d, PIPDU_REG_CAL_GAIN + 2 * 7), kDefaultGainUaPerStep);
}

TEST(irms_follows_the_load_only_while_the_relay_is_on_and_sample_seq_bumps) {
  SimDevice d;
  d.channel[2].amps = 5.0;
  d.channel[9].amps = 0.5;
  d.advance(1000);
  CHECK_EQ(readU16(d, PIPDU_REG_IRMS + 4), 0);
  CHECK(readU8(d, PIPDU_REG_STATUS) & PIPDU_STATUS_ADC_RUNNING);
  CHECK_EQ(writeU16(d, PIPDU_REG_RELAY_ON, (1 << 2) | (1 << 9)), PIPDU_WRITE_OK);
  const uint16_t seq = readU16(d, PIPDU_REG_SAMPLE_SEQ + 4);
  d.advance(1000);
  const uint16_t five = readU16(d, PIPDU_REG_IRMS + 4);
  CHECK(five > 4950 - 49 && five < 5050 + 49);
  const uint16_t half = readU16(d, PIPDU_REG_IRMS + 18);
  CHECK(half > 495 - 49 && half < 505 + 49);
  CHECK((uint16_t)(readU16(d, PIPDU_REG_SAMPLE_SEQ + 4) - seq) >= 4);  // 200 ms windows
  CHECK_EQ(writeU16(d, PIPDU_REG_RELAY_OFF, 1 << 2), PIPDU_WRITE_OK);
  d.advance(500);
  CHECK_EQ(readU16(d, PIPDU_REG_IRMS + 4), 0);
}

TEST(every_channel_refreshes_at_least_once_a_second_at_the_longest_window) {
  SimDevice d;
  CHECK_EQ(writeRegs(d, PIPDU_REG_MAINS_HZ, {50, 25}), PIPDU_WRITE_OK);
  d.advance(600);
  std::vector<uint8_t> before = readRegs(d, PIPDU_REG_SAMPLE_SEQ, 30);
  d.advance(1000);
  std::vector<uint8_t> after = readRegs(d, PIPDU_REG_SAMPLE_SEQ, 30);
  for (int c = 0; c < 15; c++) CHECK((after[2 * c] | after[2 * c + 1] << 8) != (before[2 * c] | before[2 * c + 1] << 8));
}

TEST(a_write_frame_leaves_the_read_pointer_on_its_receipt_so_one_read_confirms_and_verifies) {
  SimDevice d;
  const uint8_t seq = readU8(d, PIPDU_REG_WRITE_SEQ);
  uint8_t frame[8];
  const uint8_t data[2] = {0x05, 0x00};
  const uint8_t n = buildWriteFrame(0x42, PIPDU_REG_RELAY_ON, data, 2, frame);
  CHECK(d.write(0x42, frame, n));
  uint8_t reply[PIPDU_RECEIPT_LEN + 1];
  CHECK(d.read(0x42, reply, PIPDU_RECEIPT_LEN + 1));  // no pointer transaction
  uint8_t crc = crc8Update(0, (uint8_t)(0x42 << 1 | 1));
  crc = crc8Update(crc, PIPDU_REG_LAST_WRITE);
  crc = crc8(reply, PIPDU_RECEIPT_LEN, crc8Update(crc, PIPDU_RECEIPT_LEN));
  CHECK_EQ(reply[PIPDU_RECEIPT_LEN], crc);
  CHECK_EQ(reply[0], PIPDU_WRITE_OK);
  CHECK_EQ(reply[PIPDU_REG_WRITE_SEQ - PIPDU_REG_LAST_WRITE], (uint8_t)(seq + 1));
  const uint8_t relay = PIPDU_REG_RELAY_STATE - PIPDU_REG_LAST_WRITE;
  CHECK_EQ(reply[relay] | reply[relay + 1] << 8, 0x05);
  CHECK_EQ(d.board.relayPins, 0x05);
}
