// Every reset path: power-on, brown-out, external, watchdog, unknown x cold-start policy off/on/last,
// staggered on-delays, and the rule that host silence never switches an outlet.
#include "check.h"
#include "helpers.h"

using namespace pipdu;

namespace {

const uint8_t kCauses[] = {PIPDU_RESET_POWER_ON, PIPDU_RESET_BROWN_OUT, PIPDU_RESET_EXTERNAL, PIPDU_RESET_WATCHDOG};

bool cold(uint8_t cause) { return cause == PIPDU_RESET_POWER_ON || cause == PIPDU_RESET_BROWN_OUT; }

/** Outlets 1..3 policy OFF/ON/LAST, delays 0; outlets 4..6 the same with a 0.5 s delay. Saved. */
void configurePolicies(SimDevice& d) {
  CHECK_EQ(writeRegs(d, PIPDU_REG_COLD_POLICY, {PIPDU_COLD_OFF, PIPDU_COLD_ON, PIPDU_COLD_LAST, PIPDU_COLD_OFF,
                                                PIPDU_COLD_ON, PIPDU_COLD_LAST}),
           PIPDU_WRITE_OK);
  CHECK_EQ(writeRegs(d, PIPDU_REG_ON_DELAY, {0, 0, 0, 5, 5, 5}), PIPDU_WRITE_OK);
  CHECK_EQ(writeU8(d, PIPDU_REG_COMMAND, PIPDU_CMD_SAVE_CONFIG), PIPDU_WRITE_OK);
  d.advance(10);
}

}  // namespace

TEST(mcusr_flags_map_to_reset_causes) {
  CHECK_EQ(resetCauseFromMcusr(0x01), PIPDU_RESET_POWER_ON);
  CHECK_EQ(resetCauseFromMcusr(0x05), PIPDU_RESET_POWER_ON);  // power-on also trips the brown-out detector
  CHECK_EQ(resetCauseFromMcusr(0x04), PIPDU_RESET_BROWN_OUT);
  CHECK_EQ(resetCauseFromMcusr(0x02), PIPDU_RESET_EXTERNAL);
  CHECK_EQ(resetCauseFromMcusr(0x10), PIPDU_RESET_EXTERNAL);  // JTAG
  CHECK_EQ(resetCauseFromMcusr(0x08), PIPDU_RESET_WATCHDOG);
  CHECK_EQ(resetCauseFromMcusr(0x0A), PIPDU_RESET_WATCHDOG);
  CHECK_EQ(resetCauseFromMcusr(0x00), PIPDU_RESET_UNKNOWN);  // a bootloader cleared MCUSR
}

TEST(a_fresh_board_starts_with_every_relay_off_and_eeprom_defaults) {
  SimDevice d;
  CHECK_EQ(d.board.relayPins, 0);
  CHECK_EQ(readU16(d, PIPDU_REG_RELAY_STATE), 0);
  const uint8_t status = readU8(d, PIPDU_REG_STATUS);
  CHECK(status & PIPDU_STATUS_EEPROM_DEFAULTED);
  CHECK(status & PIPDU_STATUS_COLD_START_APPLIED);
  CHECK(!(status & PIPDU_STATUS_COLD_START_PENDING));
  for (int i = 0; i < 16; i++) CHECK_EQ(readU8(d, (uint8_t)(PIPDU_REG_COLD_POLICY + i)), PIPDU_COLD_OFF);
}

TEST(each_reset_cause_times_each_policy_and_previous_state) {
  for (uint8_t cause : kCauses) {
    for (int wasOn = 0; wasOn <= 1; wasOn++) {
      SimDevice d;
      configurePolicies(d);
      CHECK_EQ(writeU16(d, PIPDU_REG_RELAY_SET, wasOn ? 0x003F : 0x0000), PIPDU_WRITE_OK);
      d.advance(1500);  // the last mask reaches the EEPROM ring
      d.reset(cause);
      CHECK_EQ(readU8(d, PIPDU_REG_RESET_CAUSE), cause);
      const uint8_t status = readU8(d, PIPDU_REG_STATUS);
      uint16_t expectNow, expectLater;
      if (cold(cause)) {
        // OFF: off; ON: on; LAST: as before. Delayed ones (4..6) after 0.5 s.
        expectNow = (uint16_t)(0x0002 | (wasOn ? 0x0004 : 0));
        expectLater = (uint16_t)(expectNow | 0x0010 | (wasOn ? 0x0020 : 0));
        CHECK(status & PIPDU_STATUS_COLD_START_APPLIED);
        CHECK(!!(status & PIPDU_STATUS_COLD_START_PENDING));
      } else {
        // warm: exactly as before, whatever the policy, at once
        expectNow = expectLater = wasOn ? 0x003F : 0x0000;
        CHECK(!(status & PIPDU_STATUS_COLD_START_APPLIED));
        CHECK(!(status & PIPDU_STATUS_COLD_START_PENDING));
      }
      CHECK_EQ(d.board.relayPins, expectNow);
      CHECK_EQ(readU16(d, PIPDU_REG_RELAY_STATE), expectNow);
      CHECK_EQ(readU16(d, PIPDU_REG_RELAY_SET), expectLater);
      d.advance(499);
      CHECK_EQ(d.board.relayPins, expectNow);
      d.advance(2);
      CHECK_EQ(d.board.relayPins, expectLater);
      CHECK(!(readU8(d, PIPDU_REG_STATUS) & PIPDU_STATUS_COLD_START_PENDING));
    }
  }
}

TEST(warm_resets_drive_the_previous_state_from_the_first_instruction) {
  for (uint8_t cause : {PIPDU_RESET_WATCHDOG, PIPDU_RESET_EXTERNAL}) {
    SimDevice d;
    CHECK_EQ(writeU16(d, PIPDU_REG_RELAY_SET, 0xA5A5), PIPDU_WRITE_OK);
    const uint32_t switches = d.board.relaySwitches;
    CHECK_EQ(earlyRelayMask(cause, d.retained, 0xFFFF), 0xA5A5);
    d.reset(cause);  // immediately after the write: the EEPROM ring has not seen it yet
    CHECK_EQ(d.board.relayPins, 0xA5A5);
    CHECK_EQ(d.board.relaySwitches, switches);  // no relay moved
  }
}

TEST(cold_resets_start_from_all_off_at_the_first_instruction) {
  SimDevice d;
  CHECK_EQ(writeU16(d, PIPDU_REG_RELAY_SET, 0xFFFF), PIPDU_WRITE_OK);
  CHECK_EQ(earlyRelayMask(PIPDU_RESET_POWER_ON, d.retained, 0xFFFF), 0);
  CHECK_EQ(earlyRelayMask(PIPDU_RESET_BROWN_OUT, d.retained, 0xFFFF), 0);
}

TEST(a_warm_reset_without_valid_retained_ram_restores_the_eeprom_mask) {
  SimDevice d;
  configurePolicies(d);
  CHECK_EQ(writeU16(d, PIPDU_REG_RELAY_SET, 0x0109), PIPDU_WRITE_OK);
  d.advance(1500);
  d.retained.magic = 0;  // e.g. a new firmware image with another RAM layout
  d.reset(PIPDU_RESET_WATCHDOG);
  CHECK_EQ(d.board.relayPins, 0x0109);
  CHECK(!(readU8(d, PIPDU_REG_STATUS) & PIPDU_STATUS_COLD_START_APPLIED));
}

TEST(an_unknown_cause_is_warm_with_valid_retained_ram_and_cold_without) {
  SimDevice d;
  configurePolicies(d);
  CHECK_EQ(writeU16(d, PIPDU_REG_RELAY_SET, 0x0101), PIPDU_WRITE_OK);
  d.advance(1500);
  d.reset(PIPDU_RESET_UNKNOWN);
  CHECK_EQ(d.board.relayPins, 0x0101);
  d.retained.magic = 0;
  d.reset(PIPDU_RESET_UNKNOWN);
  CHECK_EQ(d.board.relayPins, 0x0002);  // cold: ON policy only (LAST outlet 3 was off)
  CHECK(readU8(d, PIPDU_REG_STATUS) & PIPDU_STATUS_COLD_START_APPLIED);
}

TEST(staggered_on_delays_switch_outlets_one_by_one) {
  SimDevice d;
  std::vector<uint8_t> on(16, PIPDU_COLD_ON), delays;
  for (int i = 0; i < 16; i++) delays.push_back((uint8_t)(i * 3));  // 0.3 s apart
  CHECK_EQ(writeRegs(d, PIPDU_REG_COLD_POLICY, on), PIPDU_WRITE_OK);
  CHECK_EQ(writeRegs(d, PIPDU_REG_ON_DELAY, delays), PIPDU_WRITE_OK);
  CHECK_EQ(writeU8(d, PIPDU_REG_COMMAND, PIPDU_CMD_SAVE_CONFIG), PIPDU_WRITE_OK);
  d.advance(50);
  d.reset(PIPDU_RESET_BROWN_OUT);
  for (int i = 0; i < 16; i++) {
    CHECK_EQ(d.board.relayPins, (1u << (i + 1)) - 1);
    d.advance(300);
  }
  CHECK_EQ(d.board.relayPins, 0xFFFF);
}

TEST(a_host_command_during_the_stagger_wins_over_the_pending_switching) {
  SimDevice d;
  CHECK_EQ(writeRegs(d, PIPDU_REG_COLD_POLICY, {PIPDU_COLD_ON, PIPDU_COLD_ON, PIPDU_COLD_ON}), PIPDU_WRITE_OK);
  CHECK_EQ(writeRegs(d, PIPDU_REG_ON_DELAY, {10, 10, 10}), PIPDU_WRITE_OK);
  CHECK_EQ(writeU8(d, PIPDU_REG_COMMAND, PIPDU_CMD_SAVE_CONFIG), PIPDU_WRITE_OK);
  d.advance(50);
  d.reset(PIPDU_RESET_POWER_ON);
  CHECK_EQ(readU16(d, PIPDU_REG_RELAY_SET), 0x0007);
  CHECK_EQ(writeU16(d, PIPDU_REG_RELAY_OFF, 0x0002), PIPDU_WRITE_OK);  // keep outlet 2 off
  d.advance(2000);
  CHECK_EQ(d.board.relayPins, 0x0005);
}

TEST(a_watchdog_reset_during_the_stagger_keeps_on_what_was_on_and_waits_for_the_rest) {
  SimDevice d;
  CHECK_EQ(writeRegs(d, PIPDU_REG_COLD_POLICY, {PIPDU_COLD_ON, PIPDU_COLD_ON}), PIPDU_WRITE_OK);
  CHECK_EQ(writeRegs(d, PIPDU_REG_ON_DELAY, {0, 20}), PIPDU_WRITE_OK);
  CHECK_EQ(writeU8(d, PIPDU_REG_COMMAND, PIPDU_CMD_SAVE_CONFIG), PIPDU_WRITE_OK);
  d.advance(50);
  d.reset(PIPDU_RESET_POWER_ON);
  d.advance(500);
  d.reset(PIPDU_RESET_WATCHDOG);
  CHECK_EQ(d.board.relayPins, 0x0001);
  CHECK(readU8(d, PIPDU_REG_STATUS) & PIPDU_STATUS_COLD_START_PENDING);
  d.advance(2000);
  CHECK_EQ(d.board.relayPins, 0x0003);
}

TEST(host_silence_never_switches_an_outlet) {
  SimDevice d;
  configurePolicies(d);
  CHECK_EQ(writeU16(d, PIPDU_REG_RELAY_SET, 0x8421), PIPDU_WRITE_OK);
  const uint32_t switches = d.board.relaySwitches;
  for (int hour = 0; hour < 20; hour++) {
    d.advance(3600u * 1000u);
    CHECK_EQ(d.board.relayPins, 0x8421);
  }
  CHECK_EQ(d.board.relaySwitches, switches);
  CHECK_EQ(readU16(d, PIPDU_REG_RELAY_STATE), 0x8421);
  d.advance(1000);
  CHECK_EQ(readU16(d, PIPDU_REG_HOST_SILENT), 0);  // the read above was contact again
}

TEST(the_last_mask_ring_spreads_writes_and_survives_many_changes) {
  SimDevice d;
  configurePolicies(d);
  std::vector<uint8_t> last(16, PIPDU_COLD_LAST);
  CHECK_EQ(writeRegs(d, PIPDU_REG_COLD_POLICY, last), PIPDU_WRITE_OK);
  CHECK_EQ(writeRegs(d, PIPDU_REG_ON_DELAY, std::vector<uint8_t>(16, 0)), PIPDU_WRITE_OK);
  CHECK_EQ(writeU8(d, PIPDU_REG_COMMAND, PIPDU_CMD_SAVE_CONFIG), PIPDU_WRITE_OK);
  d.advance(50);
  const uint32_t before = d.board.eepromWrites;
  uint16_t mask = 0;
  for (int i = 1; i <= 300; i++) {
    mask = (uint16_t)(i * 2654435761u >> 7);
    CHECK_EQ(writeU16(d, PIPDU_REG_RELAY_SET, mask), PIPDU_WRITE_OK);
    d.advance(1100);
  }
  CHECK(d.board.eepromWrites - before <= 300 * 4);
  d.reset(PIPDU_RESET_POWER_ON);
  CHECK_EQ(d.board.relayPins, mask);
}

TEST(quick_changes_reach_the_eeprom_once_they_settle) {
  SimDevice d;
  d.advance(5000);
  const uint32_t before = d.board.eepromWrites;
  for (int i = 0; i < 50; i++) writeU16(d, PIPDU_REG_RELAY_SET, (uint16_t)i);
  d.advance(999);
  CHECK_EQ(d.board.eepromWrites, before);
  d.advance(100);
  CHECK(d.board.eepromWrites > before && d.board.eepromWrites - before <= 4);
}
