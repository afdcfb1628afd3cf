// Relay policy: what the outlets do after a reset, and the host's switching requests.
//
// After a power-on or brown-out reset the cold-start policy applies per outlet: OFF stays off,
// ON and LAST (if the outlet was on before, per EEPROM) switch on after their own ON_DELAY, so
// inrush is staggered. After a watchdog or external reset the previous state is restored at once
// from RAM that survives the reset (RetainedState), or from the EEPROM ring if that RAM is not
// valid; outlets that were still waiting for their delay wait again. An unknown reset cause is
// warm if the retained RAM is valid, cold otherwise. Nothing here depends on the host: silence
// never switches an outlet.
#ifndef PIPDU_RELAYS_H
#define PIPDU_RELAYS_H

#include <stdint.h>

#include "config.h"
#include "hal.h"

namespace pipdu {

const uint32_t kRetainedMagic = 0x50445552UL;

bool retainedValid(const RetainedState& r);
void retain(RetainedState& r, uint16_t energised, uint16_t pending);
/** The relay mask to drive at the very first instructions after reset (before anything else runs). */
uint16_t earlyRelayMask(uint8_t resetCause, const RetainedState& r, uint16_t fitted);
/** Maps the AVR MCUSR flags (PORF 0x01, EXTRF 0x02, BORF 0x04, WDRF 0x08, JTRF 0x10) to RESET_CAUSE. */
uint8_t resetCauseFromMcusr(uint8_t mcusr);

class Relays {
 public:
  explicit Relays(uint8_t outlets);

  /** Decides the state after reset. Returns STATUS bits (COLD_START_APPLIED / _PENDING). */
  uint8_t startup(uint8_t resetCause, const RetainedState& retained, uint16_t eepromLastMask, const Config& cfg,
                  uint32_t nowMs);
  /** Runs the staggered on-delays. True when the energised mask changed. */
  bool poll(uint32_t nowMs);

  void set(uint16_t mask);  // whole mask; cancels all pending cold-start switching
  void on(uint16_t mask);   // cancels pending switching of these bits
  void off(uint16_t mask);

  uint16_t fitted() const { return fitted_; }
  uint16_t energised() const { return energised_; }
  uint16_t pending() const { return pending_; }
  /** What the outlets will be once pending delays ran: read back as RELAY_SET, saved as "last". */
  uint16_t requested() const { return energised_ | pending_; }

 private:
  void schedule(uint16_t bits, const Config& cfg, uint32_t nowMs);
  uint16_t fitted_;
  uint16_t energised_ = 0;
  uint16_t pending_ = 0;
  uint32_t startMs_ = 0;
  uint8_t delay_[kChannels] = {};
};

}  // namespace pipdu

#endif
