#include "relays.h"

#include "register_map.h"

namespace pipdu {

bool retainedValid(const RetainedState& r) {
  return r.magic == kRetainedMagic && (uint16_t)~r.energised == r.energisedInverse &&
         (uint16_t)~r.pending == r.pendingInverse;
}

void retain(RetainedState& r, uint16_t energised, uint16_t pending) {
  r.magic = kRetainedMagic;
  r.energised = energised;
  r.energisedInverse = (uint16_t)~energised;
  r.pending = pending;
  r.pendingInverse = (uint16_t)~pending;
}

static bool warm(uint8_t cause, bool valid) {
  if (cause == PIPDU_RESET_WATCHDOG || cause == PIPDU_RESET_EXTERNAL) return true;
  return cause == PIPDU_RESET_UNKNOWN && valid;
}

uint16_t earlyRelayMask(uint8_t resetCause, const RetainedState& r, uint16_t fitted) {
  const bool valid = retainedValid(r);
  return warm(resetCause, valid) && valid ? (uint16_t)(r.energised & fitted) : 0;
}

uint8_t resetCauseFromMcusr(uint8_t mcusr) {
  if (mcusr & 0x01) return PIPDU_RESET_POWER_ON;
  if (mcusr & 0x04) return PIPDU_RESET_BROWN_OUT;
  if (mcusr & 0x08) return PIPDU_RESET_WATCHDOG;
  if (mcusr & (0x02 | 0x10)) return PIPDU_RESET_EXTERNAL;
  return PIPDU_RESET_UNKNOWN;
}

Relays::Relays(uint8_t outlets)
    : fitted_(outlets >= kChannels ? (uint16_t)0xFFFF : (uint16_t)((1U << outlets) - 1)) {}

void Relays::schedule(uint16_t bits, const Config& cfg, uint32_t nowMs) {
  startMs_ = nowMs;
  for (uint8_t i = 0; i < kChannels; i++) delay_[i] = cfg.onDelay[i];
  pending_ = bits & fitted_;
  poll(nowMs);  // outlets with no delay switch on right away
}

uint8_t Relays::startup(uint8_t resetCause, const RetainedState& retained, uint16_t eepromLastMask,
                        const Config& cfg, uint32_t nowMs) {
  const bool valid = retainedValid(retained);
  energised_ = 0;
  pending_ = 0;
  if (warm(resetCause, valid)) {
    if (valid) {
      energised_ = retained.energised & fitted_;
      schedule(retained.pending & (uint16_t)~energised_, cfg, nowMs);
    } else {
      energised_ = eepromLastMask & fitted_;
    }
    return pending_ ? PIPDU_STATUS_COLD_START_PENDING : 0;
  }
  uint16_t on = 0;
  for (uint8_t i = 0; i < kChannels; i++) {
    const uint16_t bit = (uint16_t)(1U << i);
    const uint8_t p = cfg.coldPolicy[i];
    if (p == PIPDU_COLD_ON || (p == PIPDU_COLD_LAST && (eepromLastMask & bit))) on |= bit;
  }
  schedule(on, cfg, nowMs);
  return (uint8_t)(PIPDU_STATUS_COLD_START_APPLIED | (pending_ ? PIPDU_STATUS_COLD_START_PENDING : 0));
}

bool Relays::poll(uint32_t nowMs) {
  if (!pending_) return false;
  const uint32_t elapsed = nowMs - startMs_;
  uint16_t due = 0;
  for (uint8_t i = 0; i < kChannels; i++) {
    const uint16_t bit = (uint16_t)(1U << i);
    if ((pending_ & bit) && elapsed >= (uint32_t)delay_[i] * 100) due |= bit;
  }
  if (!due) return false;
  pending_ &= (uint16_t)~due;
  energised_ |= due;
  return true;
}

void Relays::set(uint16_t mask) {
  pending_ = 0;
  energised_ = mask & fitted_;
}

void Relays::on(uint16_t mask) {
  pending_ &= (uint16_t)~mask;
  energised_ |= mask & fitted_;
}

void Relays::off(uint16_t mask) {
  pending_ &= (uint16_t)~mask;
  energised_ &= (uint16_t)~mask;
}

}  // namespace pipdu
