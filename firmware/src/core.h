// The firmware without the board: register file, measurement, relay policy, EEPROM, counters.
// The AVR sketch and the host bridge both drive it the same way:
//   begin(cause) once after reset, poll() from loop(), i2cReceive()/i2cRequest() from the Wire
//   handlers, sampler().add() from the ADC interrupt.
#ifndef PIPDU_CORE_H
#define PIPDU_CORE_H

#include <stdint.h>

#include "config.h"
#include "eeprom_store.h"
#include "hal.h"
#include "register_file.h"
#include "relays.h"
#include "rms.h"

namespace pipdu {

/** The last-mask ring is written this long after the requested mask stopped changing. */
const uint16_t kLastMaskDebounceMs = 1000;
/** STATUS.ADC_RUNNING clears when no window completed for this long. */
const uint16_t kAdcStaleMs = 2000;

class Core {
 public:
  Core(Hal& hal, RetainedState& retained, uint8_t outlets, uint8_t address);

  void begin(uint8_t resetCause);
  void poll();

  void i2cReceive(const uint8_t* data, uint8_t length) { regs_.receive(data, length); }
  uint8_t i2cRequest(uint8_t* out) const { return regs_.reply(out); }
  Sampler& sampler() { return sampler_; }

  // for tests and diagnostics
  const Config& config() const { return cfg_; }
  const Relays& relays() const { return relays_; }
  const uint8_t* registers() const { return regs_.front(); }

 private:
  void applyFrame(const Frame& f);
  uint8_t applyWrite(const uint8_t* frame);
  void processChannel();
  void tickSeconds(uint32_t now);
  void driveRelays();
  void buildSnapshot(uint8_t* r);

  Hal& hal_;
  RetainedState& retained_;
  RegisterFile regs_;
  Sampler sampler_;
  Relays relays_;
  EepromStore eeprom_;
  Config cfg_;
  uint8_t outlets_;
  uint8_t resetCause_ = PIPDU_RESET_UNKNOWN;
  uint8_t statusFlags_ = 0;  // COLD_START_APPLIED, EEPROM_DEFAULTED
  uint8_t lastWrite_ = PIPDU_WRITE_OK;
  uint8_t writeSeq_ = 0;
  uint16_t crcErrors_ = 0;
  uint16_t hostSilent_ = 0;
  uint32_t uptime_ = 0;
  uint32_t uptimeAnchor_ = 0;
  uint32_t silentAnchor_ = 0;
  uint16_t irms_[kChannels] = {};
  uint16_t sampleSeq_[kChannels] = {};
  uint8_t nextChannel_ = 0;
  bool adcSeen_ = false;
  uint32_t lastWindowMs_ = 0;
  uint16_t savedMask_ = 0;
  uint16_t lastRequested_ = 0;
  uint32_t maskChangedMs_ = 0;
  bool dirty_ = true;
};

}  // namespace pipdu

#endif
